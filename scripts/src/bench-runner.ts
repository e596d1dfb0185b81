/**
 * `npm run bench:runner -- [--runs N] [--before RUNNER_SCRIPT]`
 *
 * What the activation runner (packages/agent/src/activation-runner.sh) adds to an
 * activation: from `DetachedActivator.start` to `follow` resolving with the outcome of
 * `/bin/true` run through it (the agent's own code: the runner started by `/bin/sh` in a
 * session of its own, its result file seen through the folder's watch). Against baselines
 * measured in the same run, alternating: one bare process start (`/bin/true` spawned to
 * its exit), and, with `--before`, the same through another runner script (an older one,
 * e.g. `git show REV:packages/agent/src/activation-runner.sh > FILE`). Prints the median
 * of each and the ratios, with the load average.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DetachedActivator, systemClock, type ActivationHandle } from '@flotilla/agent';
import { ChildProcessRunner } from '@flotilla/runtime';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, before: { type: 'string' } },
});
const runs = Number(values.runs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-runner-'));
const activator = (runnerScript?: string) =>
  new DetachedActivator({
    mode: 'detached',
    dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    currentSystemLink: join(dir, 'current-system'),
    profile: join(dir, 'system'),
    runner: new ChildProcessRunner(),
    clock: systemClock,
    runnerScript,
  });
const variants: { name: string; activator: DetachedActivator }[] = [
  { name: 'runner (this checkout)', activator: activator() },
  ...(values.before
    ? [{ name: `runner (${values.before})`, activator: activator(values.before) }]
    : []),
];

/** Start → outcome of `/bin/true` through one runner, in ms. */
async function throughRunner(runner: DetachedActivator, id: string): Promise<number> {
  const folder = join(dir, Buffer.from(id, 'utf8').toString('base64url'));
  const handle: ActivationHandle = {
    name: 'activate',
    logFile: join(folder, 'activate.log'),
    resultFile: join(folder, 'activate.result.json'),
    pidFile: join(folder, 'activate.pid.json'),
    unit: null,
    command: ['/bin/true'],
  };
  const started = performance.now();
  await runner.start(handle);
  const outcome = await runner.follow(handle, {
    offset: 0,
    startedAt: Date.now(),
    signal: AbortSignal.timeout(60_000),
    onLines: () => Promise.resolve(),
  });
  const ms = performance.now() - started;
  if (outcome.exitCode !== 0)
    throw new Error(`/bin/true through ${id}: ${JSON.stringify(outcome)}`);
  await runner.discard(id);
  return ms;
}

/** One bare process start: `/bin/true` spawned to its exit, in ms. */
function processStart(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - started));
  });
}

const times: number[][] = variants.map(() => []);
const starts: number[] = [];
try {
  for (let run = 0; run < runs; run++) {
    starts.push(await processStart());
    // Alternating which runner goes first, so neither always follows the other.
    const order = run % 2 === 0 ? variants.keys() : [...variants.keys()].reverse();
    for (const i of order) {
      times[i]?.push(await throughRunner(variants[i]!.activator, `run-${run}-${i}`));
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const start = median(starts);
console.log(
  `${runs} runs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; medians:`,
);
console.log('\n| figure | median | in process starts |');
console.log('| --- | ---: | ---: |');
console.log(`| \`/bin/true\` spawned to its exit | ${start.toFixed(1)} ms | 1 |`);
variants.forEach((v, i) => {
  const m = median(times[i] ?? []);
  console.log(`| ${v.name}: start → outcome | ${m.toFixed(1)} ms | ${(m / start).toFixed(1)} |`);
});
if (variants.length === 2) {
  const ratio = median(times[0] ?? []) / median(times[1] ?? []);
  console.log(`\nthis checkout ÷ before: ${ratio.toFixed(2)}`);
}
