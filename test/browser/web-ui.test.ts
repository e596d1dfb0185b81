import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  buildHost,
  JsonClient,
  startBrowser,
  writeSandboxFlake,
  type BrowserHandle,
  type Page,
  type SandboxHostSpec,
} from '@flotilla/sandbox';
import { totpCode } from '@flotilla/controller/testing';
import { FleetFixture } from '../integration/fleet-fixture.js';

/** Screenshots the README shows, rewritten by every run. */
const SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));

/** The user's nine hosts, as in the demo: six managed NixOS hosts, three monitor-only Macs. */
const FLEET: SandboxHostSpec[] = [
  { name: 'csb1' },
  { name: 'csb0' },
  { name: 'hsb0' },
  { name: 'hsb1' },
  { name: 'hsb8' },
  { name: 'gpc0' },
  { name: 'imac0', kind: 'darwin' },
  { name: 'mba-imac-work', kind: 'darwin' },
  { name: 'mba-mbp-work', kind: 'darwin' },
];
const MANAGED = FLEET.filter((h) => h.kind !== 'darwin').map((h) => h.name);
const MONITOR = FLEET.filter((h) => h.kind === 'darwin').map((h) => h.name);
const VIEWER = { username: 'vera', password: 'viewer-password-1' };

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
}

/**
 * Waits until the fleet list shows `count` rows (it renders only what is in view). Polled
 * from here: the page's CSP refuses the string evaluation `waitForFunction` would use.
 */
async function waitForRows(page: Page, count: number): Promise<void> {
  const rows = page.locator('[data-testid=host-row]');
  await JsonClient.until(
    async () => ((await rows.count()) === count ? true : undefined),
    `${count} host rows`,
    15_000,
  );
}

describe('the web UI in a real browser against a real fleet', { timeout: 600_000 }, () => {
  let fleet: FleetFixture;
  let browser: BrowserHandle;
  let url: string;

  before(async () => {
    fleet = await FleetFixture.start('web-ui');
    url = fleet.controller.url;
    const flake = join(fleet.dir, 'flake');
    await writeSandboxFlake(
      flake,
      FLEET.map((h) => ({ ...h, version: '0' })),
    );
    // Each managed host runs a system of its own before Flotilla: its first generation.
    const initial = new Map<string, string>();
    for (const name of MANAGED) initial.set(name, await buildHost(`path:${flake}`, name));
    for (const name of MANAGED) await fleet.addAgent(name, { initialSystem: initial.get(name) });
    for (const name of MONITOR) await fleet.addAgent(name, { mode: 'monitor' });
    // hsb1 gets one deployment through the API: a second generation and a history.
    await writeSandboxFlake(
      flake,
      FLEET.map((h) => ({ ...h, version: h.name === 'hsb1' ? '1' : '0' })),
    );
    const deployed = await fleet.deploy({
      host: 'hsb1',
      storePath: await buildHost(`path:${flake}`, 'hsb1'),
    });
    assert.equal(deployed.status, 201);
    const done = await fleet.waitForDeployment(deployed.body.id, 120_000);
    assert.equal(done.status, 'succeeded');
    await fleet.waitForHost('hsb1', (h) => (h.facts?.generations.length ?? 0) >= 2);
    const viewer = await fleet.api.post('/api/v1/users', { ...VIEWER, role: 'viewer' });
    assert.equal(viewer.status, 201);
    browser = await startBrowser();
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
  });

  it('logs in through the page and shows all nine hosts, six managed and three monitor-only', async () => {
    const { page, errors, context } = await browser.newPage({
      viewport: { width: 1440, height: 900 },
    });
    await logIn(page, url, fleet.controller.admin);
    await waitForRows(page, 9);
    const names = await page.locator('[data-testid=host-row] .host-name').allTextContents();
    assert.deepEqual(names.sort(), [...MANAGED, ...MONITOR].sort());
    const counts = (await page.getByTestId('fleet-counts').textContent()) ?? '';
    assert.match(counts, /9 hosts/);
    assert.match(counts, /9 online/);
    assert.match(counts, /6 managed, 3 monitor-only/);
    assert.match((await page.getByTestId('who').textContent()) ?? '', /admin/);
    const hsb1 = page.locator('[data-testid=host-row][data-host=hsb1]');
    assert.match((await hsb1.textContent()) ?? '', /succeeded/);
    await page.screenshot({ path: join(SCREENSHOTS, 'overview.png') });

    // Filters live in the URL: monitor-only hosts, then a search.
    await page.getByLabel('Mode').selectOption('monitor');
    await waitForRows(page, 3);
    assert.match(page.url(), /mode=monitor/);
    await page.getByLabel('Search').fill('mba');
    await waitForRows(page, 2);
    await page.getByRole('button', { name: 'Clear the filters' }).waitFor({ state: 'detached' });
    await page.goto(url);
    await waitForRows(page, 9);

    // A reload keeps the session (HttpOnly cookie) and the CSRF token.
    const session = (await context.cookies()).find((c) => c.name === 'flotilla_session');
    assert.equal(session?.httpOnly, true);
    assert.equal(session?.sameSite, 'Strict');
    assert.deepEqual(seriousErrors(errors), []);
  });

  it("opens a host's page: facts, generations, deployment history, identity", async () => {
    const { page, errors } = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
    await logIn(page, url, fleet.controller.admin);
    await page.locator('[data-testid=host-row][data-host=hsb1] .host-name').click();
    await page.getByRole('heading', { name: /hsb1/ }).waitFor();
    assert.match(page.url(), /\/hosts\/hsb1$/);
    const generations = page.getByTestId('generations').locator('tbody tr');
    await generations.nth(1).waitFor();
    assert.equal(await generations.count(), 2);
    assert.equal(await page.getByRole('button', { name: /^Roll back to 1$/ }).count(), 1);
    const history = page.getByTestId('deployment-history');
    assert.match((await history.textContent()) ?? '', /succeeded/);
    assert.match(
      (await page.getByRole('region', { name: 'Agent identity' }).textContent()) ?? '',
      /enrolled/,
    );
    await page.getByRole('button', { name: 'Reboot…' }).click();
    const reboot = page.getByRole('button', { name: 'Reboot', exact: true });
    assert.equal(await reboot.isDisabled(), true, 'the host name must be typed first');
    await page.getByLabel(/Type .* to confirm/).fill('hsb1');
    assert.equal(await reboot.isDisabled(), false);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.screenshot({ path: join(SCREENSHOTS, 'host.png'), fullPage: true });
    assert.deepEqual(seriousErrors(errors), []);
  });

  it('asks a user with TOTP for a code at login, and shows their role', async () => {
    const password = 'operator-password-1';
    const created = await fleet.api.post('/api/v1/users', {
      username: 'tara',
      role: 'operator',
      password,
    });
    assert.equal(created.status, 201);
    const login = await fleet.api.post<{ token: string }>('/api/v1/auth/token', {
      username: 'tara',
      password,
      name: 'totp setup',
    });
    const tara = new JsonClient(url, login.body.token);
    const started = await tara.post<{ secret: string }>('/api/v1/me/totp', {});
    const now = Date.now();
    const confirmed = await tara.post('/api/v1/me/totp/confirm', {
      code: totpCode(started.body.secret, new Date(now)),
    });
    assert.equal(confirmed.status, 200);

    const { page, errors } = await browser.newPage();
    await logIn(page, url, { username: 'tara', password });
    const code = page.getByLabel('TOTP code');
    await code.waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /authenticator/);
    // A code works once: the next period's (the controller accepts one period either side).
    await code.fill(totpCode(started.body.secret, new Date(now + 30_000)));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('who').waitFor();
    assert.match((await page.getByTestId('who').textContent()) ?? '', /tara\s*operator/);
    await waitForRows(page, 9);
    assert.ok(
      (await page.getByRole('checkbox', { name: /Select/ }).count()) > 0,
      'operators select hosts',
    );
    assert.deepEqual(seriousErrors(errors), []);
  });

  it('shows a viewer no actions, works at phone width in the dark, answers unknown paths 404, and logs out', async () => {
    const { page } = await browser.newPage({
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
    });
    const deep = await page.goto(`${url}/hosts/csb0`);
    assert.equal(deep?.status(), 200);
    await logIn(page, `${url}/hosts/csb0`, VIEWER);
    await page.getByRole('heading', { name: /csb0/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Reboot…' }).count(), 0);
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.locator('[data-testid=host-row]').first().waitFor();
    assert.equal(await page.getByRole('button', { name: /Approve waiting/ }).count(), 0);
    assert.equal(await page.getByRole('checkbox', { name: /Select/ }).count(), 0);
    await page.screenshot({ path: join(SCREENSHOTS, 'overview-phone-dark.png') });
    // The API refuses what the page hides.
    const refused = await page.evaluate<number>(
      "fetch('/api/v1/hosts/csb0/pin', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': localStorage.getItem('flotilla.csrf') }, body: '{}' }).then((r) => r.status)",
    );
    assert.equal(refused, 403);

    assert.equal((await fetch(`${url}/no-such-page`)).status, 404);
    assert.equal((await fetch(`${url}/api/v1/no-such-route`)).status, 404);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').waitFor();
    assert.equal(await page.evaluate<number>("fetch('/api/v1/me').then((r) => r.status)"), 401);
  });
});
