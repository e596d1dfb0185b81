import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { PendingApprovalList, ReleaseList, Revision } from '@flotilla/protocol';
import {
  buildHost,
  GitFlakeRepo,
  JsonClient,
  startBrowser,
  writeHost,
  writeSandboxFlake,
  type BrowserHandle,
} from '@flotilla/sandbox';
import { totpCode } from '@flotilla/controller/testing';
import { FleetFixture } from '../integration/fleet-fixture.js';

/** Screenshots the README shows, rewritten by every run. */
const SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const HOSTS = ['web1', 'web2'];
type Page = Awaited<ReturnType<BrowserHandle['newPage']>>['page'];

const VIEWER = { username: 'vera', password: 'viewer-password-1234' };

/** What a page reports that no working page should: uncaught errors and CSP refusals. */
function seriousErrors(errors: string[]): string[] {
  return errors.filter(
    (e) => !e.startsWith('Failed to load resource') && !e.includes('EventSource'),
  );
}

async function logIn(
  page: Page,
  url: string,
  user: { username: string; password: string },
  totp?: string,
) {
  await page.goto(url);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  if (totp !== undefined) {
    await page.getByLabel('TOTP code').fill(totp);
    await page.getByRole('button', { name: 'Log in' }).click();
  }
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/**
 * Marks the page's window: the mark is gone after any full load, so finding it again proves
 * that what changed on the page came without a reload. Given as text: the test's tsconfig
 * has no DOM.
 */
const markWindow = (page: Page) => page.evaluate('window.__flotillaMark = 1');
const windowMarked = async (page: Page) =>
  (await page.evaluate<unknown>('window.__flotillaMark')) === 1;

describe('the web UI pages: approvals, deployments, rollouts', { timeout: 600_000 }, () => {
  let fleet: FleetFixture;
  let repo: GitFlakeRepo;
  let browser: BrowserHandle;
  const stamp = Date.now();
  /** The revision the first tests approve for web1. */
  let firstRevision = '';

  /** Commits the working tree, syncs, and waits until the changed hosts' releases are ready. */
  const pushAndRelease = async (message: string, changed: string[]): Promise<string> => {
    const sha = await repo.commit(message);
    await repo.push();
    const sync = await fleet.api.post<{ newRevisions: Revision[] }>('/api/v1/repository/sync', {});
    const revision = sync.body.newRevisions[0];
    assert.ok(revision, `the sync recorded ${sha}`);
    await JsonClient.until(
      async () => {
        const releases = (await fleet.api.get<ReleaseList>('/api/v1/releases?limit=500')).body
          .releases;
        return changed.every((h) =>
          releases.some((r) => r.host === h && r.sha === sha && r.status !== 'publishing'),
        )
          ? true
          : undefined;
      },
      `releases of ${message}`,
      120_000,
    );
    return revision.id;
  };
  /** The deployment of `revisionId` waiting for approval on `host`. */
  const pendingOf = async (host: string, revisionId: string) =>
    JsonClient.until(
      async () =>
        (await fleet.api.get<PendingApprovalList>('/api/v1/approvals')).body.approvals.find(
          (a) => a.host === host && a.revisionId === revisionId && a.status === 'awaiting_approval',
        ),
      `an approval waiting for ${host}`,
      60_000,
    );

  before(async () => {
    fleet = await FleetFixture.start('web-pages', {
      config: async (dir) => {
        repo = await GitFlakeRepo.create(join(dir, 'github'));
        await writeSandboxFlake(
          repo.work,
          HOSTS.map((name) => ({ name, version: `${stamp}-0` })),
        );
        await repo.commit('fleet');
        await repo.push();
        return {
          repository: { url: repo.bare, pollIntervalSeconds: 3600 },
          deployments: { confirmTimeoutSeconds: 15 },
          rollout: {
            waves: [
              { name: 'canary', hosts: ['web1'], soakSeconds: 2 },
              { name: 'main', hosts: ['web2'] },
            ],
          },
          hosts: { web1: { policy: 'manual' }, web2: { policy: 'manual' } },
        };
      },
    });
    const flake = join(fleet.dir, 'initial');
    await writeSandboxFlake(
      flake,
      HOSTS.map((name) => ({ name, version: `${stamp}-init` })),
    );
    for (const name of HOSTS)
      await fleet.addAgent(name, { initialSystem: await buildHost(`path:${flake}`, name) });
    const viewer = await fleet.api.post('/api/v1/users', { ...VIEWER, role: 'viewer' });
    assert.equal(viewer.status, 201, JSON.stringify(viewer.body));
    browser = await startBrowser();
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
  });

  it('shows a viewer the waiting release without an approve button, and the API refuses them anyway', async () => {
    await writeHost(repo.work, { name: 'web1', version: `${stamp}-1` });
    firstRevision = await pushAndRelease('web1: version 1', ['web1']);
    const pending = await pendingOf('web1', firstRevision);

    const { page, errors } = await browser.newPage();
    await logIn(page, `${fleet.controller.url}/approvals`, VIEWER);
    const card = page.getByTestId('approval-revision').filter({ hasText: 'web1: version 1' });
    await card.locator('[data-testid=approval-host][data-host=web1]').waitFor();
    assert.equal(await page.getByRole('button', { name: /Approve/ }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Reject/ }).count(), 0);

    // Past the page: the same session asking the API directly is refused.
    // The page's script runs in the browser: given as text, as the test's tsconfig has no DOM.
    const status = await page.evaluate<number>(
      `fetch('/api/v1/approvals', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-csrf-token': localStorage.getItem('flotilla.csrf') ?? '',
        },
        body: JSON.stringify({ decision: 'approve', deploymentId: ${JSON.stringify(pending.deploymentId)} }),
      }).then((r) => r.status)`,
    );
    assert.equal(status, 403);
    const still = (await fleet.api.get<PendingApprovalList>('/api/v1/approvals')).body.approvals;
    assert.ok(
      still.some(
        (a) => a.deploymentId === pending.deploymentId && a.status === 'awaiting_approval',
      ),
    );
    assert.deepEqual(seriousErrors(errors), []);
  });

  it('approves a waiting release from the inbox and follows its deployment to succeeded live', async () => {
    const pending = await pendingOf('web1', firstRevision);
    const { page, errors } = await browser.newPage();
    await logIn(page, `${fleet.controller.url}/approvals`, fleet.controller.admin);
    const card = page.getByTestId('approval-revision').filter({ hasText: 'web1: version 1' });
    await card.locator('[data-testid=approval-host][data-host=web1]').waitFor();
    // What approving changes on web1, as its agent prepared it: packages and units.
    const plan = card.locator(
      '[data-testid=approval-host][data-host=web1] [data-testid=change-plan]',
    );
    await plan.waitFor({ timeout: 60_000 });
    assert.match((await plan.textContent()) ?? '', /Packages: \d+ added, \d+ removed, \d+ changed/);
    await page.screenshot({ path: `${SCREENSHOTS}/approvals.png`, fullPage: true });
    await markWindow(page);

    await card.getByRole('button', { name: 'Approve web1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve web1' });
    await dialog.getByLabel(/Comment/).fill('looks right');
    await dialog.getByRole('button', { name: 'Approve' }).click();
    const summary = page.getByTestId('decision-summary');
    await summary.waitFor();
    assert.match((await summary.textContent()) ?? '', /web1/);

    await summary.getByRole('link', { name: 'web1' }).click();
    await page.waitForURL(`**/deployments/${pending.deploymentId}`);
    await page
      .locator('[data-testid=deployment-status] [data-status=succeeded]')
      .waitFor({ timeout: 120_000 });
    const result = (await page.getByTestId('deployment-result').textContent()) ?? '';
    assert.match(result, /Succeeded/);
    // The log followed the run: the agent's own lines are on the page without a reload.
    await page
      .getByTestId('log')
      .getByText(/succeeded; current system is/)
      .waitFor();
    assert.match((await page.getByTestId('steps').textContent()) ?? '', /approved|deploying/);
    assert.match((await page.locator('.facts').textContent()) ?? '', /looks right/);
    // Each phase the agent reported, with when it began.
    await page.locator('[data-testid=phases] [data-phase=activating]').waitFor();
    assert.ok(await windowMarked(page), 'status and log lines came without a reload');
    await page.screenshot({ path: `${SCREENSHOTS}/deployment.png`, fullPage: true });

    // After a reload the finished deployment's log is all there again.
    const before = await page.locator('[data-testid=log] .log-line').count();
    await page.reload();
    await page
      .getByTestId('log')
      .getByText(/succeeded; current system is/)
      .waitFor();
    assert.equal(await page.locator('[data-testid=log] .log-line').count(), before);
    assert.equal(await windowMarked(page), false, 'it was a reload');
    assert.deepEqual(seriousErrors(errors), []);
  });

  it("lists the release's build and shows it with its streamed log", async () => {
    const { page, errors } = await browser.newPage({ viewport: { width: 390, height: 900 } });
    await logIn(
      page,
      `${fleet.controller.url}/builds?host=web1&status=succeeded`,
      fleet.controller.admin,
    );
    const rows = page.getByTestId('build-row');
    await rows.first().waitFor();
    await rows.first().getByRole('link').first().click();
    await page.locator('[data-testid=build-status] [data-status=succeeded]').waitFor();
    // The stream ends with `end`: its lines, or the word that there were none.
    await page
      .locator('[data-testid=log] .log-line')
      .first()
      .or(page.getByText('This build printed nothing.'))
      .waitFor();
    assert.equal(await page.getByRole('button', { name: 'Retry build' }).count(), 0);
    assert.deepEqual(seriousErrors(errors), []);
  });

  it('shows a failing deployment with its reason and the rollback, and its halted rollout', async () => {
    await writeHost(repo.work, { name: 'web2', version: `${stamp}-broken`, exitCode: 2 });
    const revisionId = await pushAndRelease('web2: a broken activation', ['web2']);
    const pending = await pendingOf('web2', revisionId);
    const decided = await fleet.api.post('/api/v1/approvals', {
      decision: 'approve',
      deploymentId: pending.deploymentId,
      force: true,
      reason: 'the test wants it now',
    });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));

    const { page, errors } = await browser.newPage({ viewport: { width: 390, height: 900 } });
    await logIn(
      page,
      `${fleet.controller.url}/deployments/${pending.deploymentId}`,
      fleet.controller.admin,
    );
    await page
      .locator('[data-testid=deployment-status] [data-status=rolled_back]')
      .waitFor({ timeout: 120_000 });
    assert.match((await page.getByTestId('deployment-reason').textContent()) ?? '', /exited 2/);
    assert.match(
      (await page.getByTestId('deployment-rollback').textContent()) ?? '',
      /went back to the system it ran before/,
    );
    await page.getByTestId('log').getByText('activation of web2 failed (exit 2)').waitFor();

    // The list filters to it by host and status.
    await page.goto(`${fleet.controller.url}/deployments?host=web2&status=rolled_back`);
    await page.getByTestId('deployment-row').first().waitFor();
    assert.equal(await page.getByTestId('deployment-row').count(), 1);

    // The failure halted the revision's rollout; the page says why and offers resume.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${fleet.controller.url}/rollouts/${revisionId}`);
    const halt = page.getByTestId('rollout-halt');
    await halt.waitFor();
    assert.match((await halt.textContent()) ?? '', /Halted/);
    assert.equal(await page.getByTestId('wave').count(), 2);
    await page.screenshot({ path: `${SCREENSHOTS}/rollout.png`, fullPage: true });
    // An operator resumes it with a reason; the halt is gone from the page.
    const resume = halt.getByRole('button', { name: 'Resume rollout' });
    assert.equal(await resume.isDisabled(), true, 'no resume without a reason');
    await halt.getByLabel('Why it is safe to go on').fill('the broken activation is understood');
    await resume.click();
    await halt.waitFor({ state: 'detached' });
    assert.equal(await page.locator('.page-header [data-status=halted]').count(), 0);
    const rollout = (await fleet.api.get<{ halted: boolean }>(`/api/v1/rollouts/${revisionId}`))
      .body;
    assert.equal(rollout.halted, false);
    assert.deepEqual(seriousErrors(errors), []);
  });
  it('finds the approval in the audit log by kind and actor', async () => {
    const { page, errors } = await browser.newPage();
    await logIn(
      page,
      `${fleet.controller.url}/audit?kind=approval.approved&actor=admin`,
      fleet.controller.admin,
    );
    const rows = page.getByTestId('audit-row');
    await rows.first().waitFor();
    assert.match((await rows.first().textContent()) ?? '', /approval\.approved/);
    assert.match((await page.locator('main').textContent()) ?? '', /looks right/);
    await page.getByLabel('Actor').fill('nobody-like-this');
    await page.getByText('No entry matches these filters.').waitFor();
    assert.deepEqual(seriousErrors(errors), []);
  });

  it('adds a host showing its enrollment token and agent command once, and revokes a host by its typed name and a TOTP code', async () => {
    // An admin who turns TOTP on after logging in: revoking then asks for a code (step-up;
    // a login with a code would count as a fresh one).
    const tess = { username: 'tess', password: 'admin-password-12345' };
    assert.equal((await fleet.api.post('/api/v1/users', { ...tess, role: 'admin' })).status, 201);
    const { page, errors } = await browser.newPage({ colorScheme: 'dark' });
    await logIn(page, `${fleet.controller.url}/settings`, tess);
    const login = await fleet.api.post<{ token: string }>('/api/v1/auth/token', {
      ...tess,
      name: 'totp setup',
    });
    const client = new JsonClient(fleet.controller.url, login.body.token);
    const started = await client.post<{ secret: string }>('/api/v1/me/totp', {});
    const totpSecret = started.body.secret;
    const now = Date.now();
    const enabled = await client.post('/api/v1/me/totp/confirm', {
      code: totpCode(totpSecret, new Date(now)),
    });
    assert.equal(enabled.status, 200);
    const cache = (await fleet.api.get<{ publicKey: string }>('/api/v1/cache')).body;
    assert.equal(await page.getByTestId('cache-key').textContent(), cache.publicKey);

    await page.getByLabel('New host name').fill('web9');
    await page.getByRole('button', { name: 'Add host' }).click();
    const secret = page.getByTestId('one-time-secret');
    await secret.waitFor();
    const token = (await secret.getByTestId('secret').textContent()) ?? '';
    assert.ok(token.length > 20, token);
    const command = (await page.getByTestId('agent-command').textContent()) ?? '';
    assert.match(command, /--host web9 /);
    assert.ok(command.includes(cache.publicKey), command);
    await secret.getByRole('button', { name: 'I have copied it' }).click();
    await page.reload();
    await page.locator('[data-testid=settings-host][data-host=web9]').waitFor();
    assert.equal(await page.getByText(token).count(), 0, 'the token is never shown again');

    // Revoking an enrolled host (the last test: web2's agent is cut off for good).
    const row = page.locator('[data-testid=settings-host][data-host=web2]');
    await row.locator('[data-status=enrolled]').waitFor();
    await row.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke web2' });
    const confirm = dialog.getByRole('button', { name: 'Revoke web2' });
    assert.equal(await confirm.isDisabled(), true, 'nothing until the name is typed');
    await dialog.getByLabel(/Type web2 to confirm/).fill('web2');
    await confirm.click();
    // A wrong code: refused, nothing revoked.
    const stepUp = page.getByRole('dialog', { name: 'Confirm with your TOTP code' });
    await stepUp.getByLabel('TOTP code').fill('000000');
    await stepUp.getByRole('button', { name: 'Confirm' }).click();
    await dialog.getByRole('alert').waitFor();
    const still = await fleet.api.get<{ identity: { status: string } | null }>(
      '/api/v1/hosts/web2',
    );
    assert.equal(still.body.identity?.status, 'enrolled');
    // A valid code: revoked.
    await confirm.click();
    // Each code works once: the next period's (one period either side is accepted).
    await stepUp.getByLabel('TOTP code').fill(totpCode(totpSecret, new Date(now + 30_000)));
    await stepUp.getByRole('button', { name: 'Confirm' }).click();
    await row.locator('[data-status=revoked]').waitFor();
    await fleet.waitForHost('web2', (h) => h.identity?.status === 'revoked');
    await page.screenshot({ path: `${SCREENSHOTS}/settings.png`, fullPage: true });
    assert.deepEqual(seriousErrors(errors), []);
  });

  it('reconnects by itself after the controller restarts and shows what changed meanwhile', async () => {
    const { page, errors } = await browser.newPage();
    await logIn(page, `${fleet.controller.url}/`, fleet.controller.admin);
    await page.locator('[data-testid=host-row][data-host=web1]').waitFor();
    await markWindow(page);
    const exitCode = await fleet.restartController();
    assert.equal(exitCode, 0, "a clean stop, the page's event stream open");
    // Made right after the start, maybe before the page is back: it shows either way.
    assert.equal((await fleet.api.post('/api/v1/hosts', { name: 'web7' })).status, 201);
    await page.locator('[data-testid=host-row][data-host=web7]').waitFor({ timeout: 30_000 });
    assert.ok(await windowMarked(page), 'no reload');
    assert.deepEqual(seriousErrors(errors), []);
  });
});
