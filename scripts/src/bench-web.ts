/**
 * `npm run bench:web -- [--hosts N] [--seconds S]`
 *
 * What the web UI costs. Starts a real controller process with N registered hosts, opens the
 * dashboard in headless Chromium (Debian's, through playwright-core) and measures:
 * - the time from the end of the overview's answer to the moment its rows are on screen, in
 *   the page's own clock, on a reload (the app's files then come from the browser's cache);
 * - the JavaScript the dashboard loads at first (every script the page fetched, gzipped);
 * - over S idle seconds, the browser's CPU (Chromium's processes from /proc, and the page's
 *   own TaskDuration and ScriptDuration from the DevTools protocol) and the controller's CPU,
 *   first with only an `about:blank` page open and no one logged in (the baseline), then
 *   with the dashboard open and its live event stream connected.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { JsonClient, startBrowser, startController, type Page } from '@flotilla/sandbox';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '30' },
  },
});
const HOSTS = Number(values.hosts);
const SECONDS = Number(values.seconds);
if (!(HOSTS > 0) || !(SECONDS > 0)) {
  console.error('usage: bench-web [--hosts N] [--seconds S]');
  process.exit(2);
}
const TICKS_PER_SECOND = 100;

/** The CPU time process `pid` used so far (user + system), in clock ticks. */
async function cpuTicks(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

/** Chromium's processes: descendants of this one whose command is Chromium's. */
async function chromiumPids(): Promise<number[]> {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const [head, rest] = [
        stat.slice(0, stat.lastIndexOf(')')),
        stat.slice(stat.lastIndexOf(')') + 2),
      ];
      parents.set(pid, Number(rest.split(' ')[1]));
      commands.set(pid, head.slice(head.indexOf('(') + 1));
    } catch {
      // Gone meanwhile.
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === process.pid) return true;
    }
    return false;
  };
  return [...commands]
    .filter(([pid, comm]) => comm.includes('chrom') && descends(pid))
    .map(([pid]) => pid);
}

async function ticksOf(pids: readonly number[]): Promise<number> {
  let sum = 0;
  for (const pid of pids) sum += await cpuTicks(pid).catch(() => 0);
  return sum;
}

type CDPSession = Awaited<ReturnType<ReturnType<Page['context']>['newCDPSession']>>;

/** The page's own main-thread time so far, in seconds (DevTools `Performance.getMetrics`). */
async function pageMetrics(cdp: CDPSession): Promise<{ task: number; script: number }> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const value = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
  return { task: value('TaskDuration'), script: value('ScriptDuration') };
}

interface Idle {
  browserCpuPercent: number;
  pageTaskMsPerSecond: number;
  pageScriptMsPerSecond: number;
  controllerCpuPercent: number;
}

/** CPU over the idle window: Chromium's processes, the page's main thread, the controller. */
async function idleWindow(page: Page, controllerPid: number): Promise<Idle> {
  const chromium = await chromiumPids();
  // One session for the window: the counters start when it enables them.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const [browserBefore, controllerBefore, metricsBefore] = [
    await ticksOf(chromium),
    await cpuTicks(controllerPid),
    await pageMetrics(cdp),
  ];
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const elapsed = (Date.now() - started) / 1000;
  const metricsAfter = await pageMetrics(cdp);
  await cdp.detach();
  const percent = (ticks: number) =>
    Number(((ticks / TICKS_PER_SECOND / elapsed) * 100).toFixed(2));
  return {
    browserCpuPercent: percent((await ticksOf(chromium)) - browserBefore),
    pageTaskMsPerSecond: Number(
      (((metricsAfter.task - metricsBefore.task) * 1000) / elapsed).toFixed(2),
    ),
    pageScriptMsPerSecond: Number(
      (((metricsAfter.script - metricsBefore.script) * 1000) / elapsed).toFixed(2),
    ),
    controllerCpuPercent: percent((await cpuTicks(controllerPid)) - controllerBefore),
  };
}

const ratio = (a: number, b: number) => (b === 0 ? null : Number((a / b).toFixed(2)));

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-web-'));
  const controller = await startController({
    stateDir: join(dir, 'state'),
    env: { FLOTILLA_LOG_LEVEL: 'info' },
  });
  const pid = controller.process.pid;
  if (pid === undefined) throw new Error('controller has no pid');
  const api = new JsonClient(controller.url, controller.adminToken);
  const browser = await startBrowser();
  try {
    console.log(`registering ${HOSTS} hosts…`);
    const names = Array.from({ length: HOSTS }, (_, i) => `host${String(i).padStart(5, '0')}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(
        names.slice(i, i + 20).map(async (name) => {
          const created = await api.post('/api/v1/hosts', { name });
          if (created.status !== 201) throw new Error(`POST /api/v1/hosts: ${created.status}`);
        }),
      );
    }
    // Past the registrations' writes.
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const { page } = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto('about:blank');
    console.log(`baseline: about:blank, nobody logged in, ${SECONDS} s…`);
    const baseline = await idleWindow(page, pid);

    // The first load: every script the dashboard fetched, gzipped as a server would send it.
    const scripts = new Map<string, number>();
    page.on('response', (response) => {
      if (response.request().resourceType() !== 'script') return;
      void response
        .body()
        .then((body) => scripts.set(response.url(), gzipSync(body, { level: 9 }).length))
        .catch(() => undefined);
    });
    await page.goto(controller.url);
    await page.getByLabel('Username').fill(controller.admin.username);
    await page.getByLabel('Password').fill(controller.admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('[data-testid=host-row]').first().waitFor({ timeout: 60_000 });
    const initialJsBytes = [...scripts.values()].reduce((a, b) => a + b, 0);

    // The render, measured on a reload (files from the browser's cache) as the browser test does.
    const renders: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      await page.reload();
      await page.locator('[data-testid=host-row]').first().waitFor({ timeout: 60_000 });
      renders.push(
        await page.evaluate<number>(
          "performance.now() - performance.getEntriesByType('resource').filter((r) => r.name.endsWith('/api/v1/overview')).pop().responseEnd",
        ),
      );
    }
    const counts = (await page.getByTestId('fleet-counts').textContent()) ?? '';
    if (!counts.includes(`${HOSTS} hosts`)) throw new Error(`the page shows ${counts}`);
    // Settle: the live stream connected, the first fetches done.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    console.log(`the dashboard open and idle, ${SECONDS} s…`);
    const dashboard = await idleWindow(page, pid);

    const sorted = [...renders].sort((a, b) => a - b);
    console.log(
      JSON.stringify(
        {
          hosts: HOSTS,
          idleSeconds: SECONDS,
          renderAfterDataMs: {
            runs: renders.map((r) => Math.round(r)),
            median: Math.round(sorted[1] ?? sorted[0] ?? 0),
          },
          initialJs: {
            scripts: scripts.size,
            gzipKB: Number((initialJsBytes / 1000).toFixed(1)),
          },
          baseline,
          dashboard,
          ratios: {
            browserCpu: ratio(dashboard.browserCpuPercent, baseline.browserCpuPercent),
            pageTask: ratio(dashboard.pageTaskMsPerSecond, baseline.pageTaskMsPerSecond),
            controllerCpu: ratio(dashboard.controllerCpuPercent, baseline.controllerCpuPercent),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    await browser.close();
    await controller.process.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
