import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DraftList } from '@flotilla/protocol';
import {
  GitFlakeRepo,
  hostNix,
  startBrowser,
  writeSandboxFlake,
  type BrowserHandle,
  type Page,
} from '@flotilla/sandbox';
import { FleetFixture } from '../integration/fleet-fixture.js';

/** Screenshots the README shows, rewritten by every run. */
const SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const HOSTS = [
  { name: 'web1', version: '1' },
  { name: 'web2', version: '1' },
];

/** What a page reports that no working page should: uncaught errors and CSP refusals. */
function seriousErrors(errors: string[]): string[] {
  return errors.filter(
    (e) => !e.startsWith('Failed to load resource') && !e.includes('EventSource'),
  );
}

async function logIn(page: Page, url: string, user: { username: string; password: string }) {
  await page.goto(url);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Opens `hosts/<name>.nix` from the tree and replaces its text; waits until it is in the draft. */
async function editHostFile(page: Page, name: string, text: string): Promise<void> {
  const tree = page.getByTestId('file-tree');
  await tree.getByText('hosts/').click();
  await tree.getByRole('button', { name: `${name}.nix` }).click();
  const editor = page.getByRole('textbox', { name: `Contents of hosts/${name}.nix` });
  await editor.waitFor();
  await editor.fill(text);
  await page.locator('[data-testid=save-state][data-state=saved]').waitFor({ timeout: 30_000 });
  await page
    .getByTestId('draft-panel')
    .getByRole('button', { name: `hosts/${name}.nix`, exact: true })
    .waitFor();
}

// The web editor in a real browser against a real controller, real Nix and a bare
// repository standing in for GitHub: edit, check, commit, and a push that conflicts.
describe('the web editor in a real browser', { timeout: 480_000 }, () => {
  let fleet: FleetFixture;
  let github: GitFlakeRepo;
  let browser: BrowserHandle;
  const remote = (args: string[]) => github.git(github.bare, args);

  before(async () => {
    fleet = await FleetFixture.start('web-editor', {
      config: async (dir) => {
        github = await GitFlakeRepo.create(join(dir, 'github'));
        await writeSandboxFlake(github.work, HOSTS);
        await github.commit('fleet');
        await github.push();
        return { repository: { url: github.bare, branch: 'main', pollIntervalSeconds: 3600 } };
      },
    });
    browser = await startBrowser();
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
  });

  it('edits a file, checks which hosts rebuild, and commits it as the logged-in admin', async () => {
    const parent = await remote(['rev-parse', 'main']);
    const { page, errors } = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await logIn(page, `${fleet.controller.url}/editor`, fleet.controller.admin);
    await editHostFile(page, 'web1', hostNix({ name: 'web1', version: '2' }));

    await page.getByRole('button', { name: 'Check' }).click();
    const hosts = page.getByTestId('check-host');
    await hosts.first().waitFor({ timeout: 180_000 });
    assert.equal(
      await page.locator('[data-testid=check-host][data-host=web1]').getAttribute('data-status'),
      'rebuild',
    );
    assert.equal(
      await page.locator('[data-testid=check-host][data-host=web2]').getAttribute('data-status'),
      'unchanged',
    );
    assert.match((await page.getByTestId('draft-check').textContent()) ?? '', /would rebuild/);
    await page.getByLabel('Show changes').check();
    await page.locator('.cm-deletedChunk').first().waitFor();
    await page.getByLabel('Commit message').fill('web1: version 2, from the browser');
    await page.screenshot({ path: `${SCREENSHOTS}/editor.png`, fullPage: true });

    await page.getByRole('button', { name: 'Commit and push' }).click();
    const result = page.getByTestId('commit-result');
    await result.or(page.locator('.form-error')).waitFor({ timeout: 180_000 });
    assert.equal(
      await page.locator('.form-error').count(),
      0,
      await page.locator('main').innerText(),
    );
    const head = await remote(['rev-parse', 'main']);
    assert.notEqual(head, parent);
    assert.ok(
      (await result.textContent())?.includes(head.slice(0, 10)),
      'the page names the commit',
    );
    const admin = fleet.controller.admin.username;
    assert.equal(
      await remote(['log', '-1', '--format=%an <%ae>|%P|%s', 'main']),
      `${admin} <${admin}@flotilla.invalid>|${parent}|web1: version 2, from the browser`,
    );
    assert.equal(
      await remote(['show', 'main:hosts/web1.nix']),
      hostNix({ name: 'web1', version: '2' }).trimEnd(),
    );
    assert.deepEqual(seriousErrors(errors), []);
  });

  it('keeps an edit whose push conflicts as a draft, shows the conflict, and still has both after a reload', async () => {
    // Someone pushes to web2's line first; the controller has not fetched it yet.
    await github.git(github.work, ['pull', '--quiet', '--ff-only', 'origin', 'main']);
    await writeFile(
      join(github.work, 'hosts', 'web2.nix'),
      hostNix({ name: 'web2', version: 'remote' }),
    );
    await github.commit('web2: changed elsewhere');
    await github.push();
    const theirs = await remote(['rev-parse', 'main']);

    const { page, errors } = await browser.newPage({ viewport: { width: 390, height: 900 } });
    await logIn(page, `${fleet.controller.url}/editor`, fleet.controller.admin);
    const mine = hostNix({ name: 'web2', version: 'browser' });
    await editHostFile(page, 'web2', mine);
    await page.getByLabel('Commit message').fill('web2: version from the browser');
    await page.getByRole('button', { name: 'Commit and push' }).click();
    const conflict = page.getByTestId('draft-conflict');
    await conflict.waitFor({ timeout: 180_000 });
    assert.match((await page.locator('.form-error').textContent()) ?? '', /draft_conflict/);
    await conflict.locator('[data-testid=conflict-file][data-path="hosts/web2.nix"]').waitFor();
    assert.equal(await remote(['rev-parse', 'main']), theirs, 'nothing was pushed');

    const drafts = (await fleet.api.get<DraftList>('/api/v1/editor/drafts')).body.drafts;
    assert.equal(drafts.length, 1);
    const draft = drafts[0];
    assert.deepEqual(
      draft?.changes.map((c) => c.path),
      ['hosts/web2.nix'],
    );

    await page.reload();
    await page.getByTestId('draft-conflict').waitFor();
    await page.locator(`[data-testid=draft-list] [data-draft="${draft?.id ?? ''}"]`).waitFor();
    const editor = page.getByRole('textbox', { name: 'Contents of hosts/web2.nix' });
    await editor.waitFor();
    assert.ok(
      ((await editor.textContent()) ?? '').includes('"browser"'),
      'the edit is still there',
    );
    assert.equal(
      await page.getByLabel('Commit message').inputValue(),
      'web2: version from the browser',
    );
    assert.deepEqual(seriousErrors(errors), []);
  });
});
