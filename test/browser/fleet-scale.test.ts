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
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('[data-testid=host-row]').first().waitFor();
    // Measured on a reload, in the page's own clock: from the end of the overview's answer
    // to the moment the rows are there (the app's files come from the browser's cache, as
    // for anyone who opened it before).
    await page.reload();
    await page.locator('[data-testid=host-row]').first().waitFor();
    const drawnMs = await page.evaluate<number>(
      "performance.now() - performance.getEntriesByType('resource').filter((r) => r.name.endsWith('/api/v1/overview')).pop().responseEnd",
    );
    console.log(
      `# ${HOSTS} hosts: rows on screen ${Math.round(drawnMs)} ms after the overview arrived`,
    );
    assert.ok(drawnMs < 1000, `drawn in ${drawnMs} ms`);
    assert.match((await page.getByTestId('fleet-counts').textContent()) ?? '', /1000 hosts/);
    const rendered = await page.locator('[data-testid=host-row]').count();
    assert.ok(rendered < 100, `only the rows in view are in the page (${rendered})`);

    // Scrolled as a person does: the wheel over the list.
    await page.getByTestId('host-scroll').hover();
    await page.mouse.wheel(0, 200_000);
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
