import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startBrowser, type BrowserHandle } from '@flotilla/sandbox';
import { FleetFixture } from '../integration/fleet-fixture.js';

/** Screenshots the README shows, rewritten by every run. */
const SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));

/** What a page reports that no working page should: uncaught errors and CSP refusals. */
function seriousErrors(errors: string[]): string[] {
  return errors.filter(
    (e) => !e.startsWith('Failed to load resource') && !e.includes('EventSource'),
  );
}

describe('the web UI in a real browser against a real controller', { timeout: 300_000 }, () => {
  let fleet: FleetFixture;
  let browser: BrowserHandle;

  before(async () => {
    fleet = await FleetFixture.start('web-shell');
    await fleet.addAgent('web1');
    await fleet.addAgent('probe1', { mode: 'monitor' });
    browser = await startBrowser();
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
  });

  it('logs in through the page and shows the hosts, with no script error or CSP refusal', async () => {
    const { page, errors, context } = await browser.newPage();
    await page.goto(fleet.controller.url);
    await page.getByLabel('Username').fill(fleet.controller.admin.username);
    await page.getByLabel('Password').fill(fleet.controller.admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();

    await page.getByTestId('host-row').first().waitFor();
    const rows = page.getByTestId('host-row');
    await page.waitForFunction("document.querySelectorAll('[data-testid=host-row]').length === 2");
    const names = await rows.locator('a').allTextContents();
    assert.deepEqual(names.sort(), ['probe1', 'web1']);
    assert.match((await page.getByTestId('who').textContent()) ?? '', /admin/);
    assert.deepEqual(seriousErrors(errors), []);

    // A reload keeps the session (HttpOnly cookie) and the CSRF token (local storage).
    await page.reload();
    await page.getByTestId('host-row').first().waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'flotilla_session');
    assert.equal(session?.httpOnly, true);
    assert.equal(session?.sameSite, 'Strict');
    await page.screenshot({ path: `${SCREENSHOTS}/shell.png` });
  });

  it('answers app pages with the app and unknown paths with 404, and logs out', async () => {
    const { page } = await browser.newPage({ viewport: { width: 390, height: 800 } });
    const deep = await page.goto(`${fleet.controller.url}/approvals`);
    assert.equal(deep?.status(), 200);
    await page.getByLabel('Username').waitFor();
    const unknown = await fetch(`${fleet.controller.url}/no-such-page`);
    assert.equal(unknown.status, 404);
    const api = await fetch(`${fleet.controller.url}/api/v1/no-such-route`);
    assert.equal(api.status, 404);

    await page.getByLabel('Username').fill(fleet.controller.admin.username);
    await page.getByLabel('Password').fill(fleet.controller.admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'Approvals' }).waitFor();
    assert.equal(
      await page.getByRole('link', { name: 'Approvals' }).getAttribute('aria-current'),
      'page',
    );
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').waitFor();
    const me = await page.evaluate<number>("fetch('/api/v1/me').then((r) => r.status)");
    assert.equal(me, 401);
  });
});
