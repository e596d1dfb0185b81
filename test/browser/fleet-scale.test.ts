import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JsonClient, startBrowser, type BrowserHandle } from '@flotilla/sandbox';
import { FleetFixture } from '../integration/fleet-fixture.js';

const HOSTS = 1000;

describe('the fleet view with a thousand hosts', { timeout: 300_000 }, () => {
  let fleet: FleetFixture;
  let browser: BrowserHandle;

  before(async () => {
    fleet = await FleetFixture.start('web-scale');
    // Registered only (never seen): the list's size is what counts here, not live agents.
    const names = Array.from({ length: HOSTS }, (_, i) => `host${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((name) => fleet.register(name)));
    }
    browser = await startBrowser();
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
  });

  it('draws the list within a second of the data arriving, and scrolls to the last host', async () => {
    const { page } = await browser.newPage();
    await page.goto(fleet.controller.url);
    await page.getByLabel('Username').fill(fleet.controller.admin.username);
    await page.getByLabel('Password').fill(fleet.controller.admin.password);
    const overview = page.waitForResponse((r) => r.url().endsWith('/api/v1/overview'));
    await page.getByRole('button', { name: 'Log in' }).click();
    const response = await overview;
    assert.equal(response.status(), 200);
    await response.finished();
    const arrived = Date.now();
    await page.locator('[data-testid=host-row]').first().waitFor();
    const drawnMs = Date.now() - arrived;
    console.log(`# ${HOSTS} hosts: first rows drawn ${drawnMs} ms after the overview arrived`);
    assert.ok(drawnMs < 1000, `drawn in ${drawnMs} ms`);
    assert.match((await page.getByTestId('fleet-counts').textContent()) ?? '', /1000 hosts/);
    const rendered = await page.locator('[data-testid=host-row]').count();
    assert.ok(rendered < 100, `only the rows in view are in the page (${rendered})`);

    await page.getByTestId('host-scroll').evaluate((element) => {
      element.scrollTop = element.scrollHeight;
    });
    await JsonClient.until(
      async () =>
        (await page.locator('[data-testid=host-row][data-host=host0999]').count()) === 1
          ? true
          : undefined,
      'the last host in view',
      10_000,
    );
  });
});
