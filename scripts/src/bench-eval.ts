/**
 * `npm run bench:eval -- [--runs N]`
 *
 * What the host-by-host fallback costs. A six-host sandbox flake (plus three darwin names)
 * in a git repository is evaluated exactly as the pipeline does (`evaluateFlakeHosts`,
 * real `nix eval` processes): (a) a good commit, which takes the one call for all hosts;
 * (b) a commit whose `hosts/gpc0.nix` has a syntax error, which fails the one call, lists
 * the hosts and evaluates each in its own call, two at a time; (c) the same broken commit
 * with one host call at a time. Every run uses fresh commits, so each measurement
 * includes Nix fetching the revision into the store once, as a new push does.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateFlakeHosts, type NixCommand } from '@flotilla/controller';
import { processRunner } from '@flotilla/runtime';
import { GitFlakeRepo, sandboxChildEnv, writeSandboxFlake } from '@flotilla/sandbox';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);
const NIXOS = ['csb0', 'csb1', 'gpc0', 'hsb0', 'hsb1', 'hsb8'];
const DARWIN = ['imac0', 'mba-imac-work', 'mba-mbp-work'];
const BROKEN = 'gpc0';
const HOUR = 3_600_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** `nix` as the controller runs it, recording how long each call took and what it was. */
function timedNix(calls: { kind: string; ms: number }[]): NixCommand {
  const env = sandboxChildEnv();
  return async (args, timeoutMs) => {
    const start = performance.now();
    const result = await processRunner.run(
      'nix',
      ['--extra-experimental-features', 'nix-command flakes', ...args],
      { env, timeoutMs, captureStdout: true },
    );
    const expression = args.at(-1) ?? '';
    const kind = args.includes('--raw')
      ? 'host'
      : expression.includes('mapAttrs')
        ? 'combined'
        : 'names';
    calls.push({ kind, ms: performance.now() - start });
    return result;
  };
}

async function measure(
  url: string,
  concurrency: number,
  expectPerHost: boolean,
): Promise<{ total: number; calls: { kind: string; ms: number }[] }> {
  const calls: { kind: string; ms: number }[] = [];
  const start = performance.now();
  const result = await evaluateFlakeHosts(timedNix(calls), url, {
    timeoutMs: HOUR,
    hostTimeoutMs: HOUR,
    concurrency,
  });
  const total = performance.now() - start;
  const failed = Object.keys(result.hostErrors);
  if (result.evaluatedPerHost !== expectPerHost || failed.length !== (expectPerHost ? 1 : 0)) {
    throw new Error(`unexpected evaluation: ${JSON.stringify(result)}`);
  }
  return { total, calls };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-eval-'));
  const tag = randomBytes(4).toString('hex');
  try {
    const repo = await GitFlakeRepo.create(join(dir, 'github'));
    const hosts = (version: string) => [
      ...NIXOS.map((name) => ({ name, version })),
      ...DARWIN.map((name) => ({ name, kind: 'darwin' as const })),
    ];
    const urlOf = (sha: string) => `git+file://${repo.work}?ref=refs/heads/main&rev=${sha}`;
    const good: number[] = [];
    const fallback: number[] = [];
    const serial: number[] = [];
    const phases: Record<string, number[]> = { combined: [], names: [], host: [] };
    for (let i = 0; i <= RUNS; i++) {
      const shas: string[] = [];
      for (const variant of ['good', 'broken', 'broken-serial']) {
        await writeSandboxFlake(repo.work, hosts(`${tag}-${i}-${variant}`));
        if (variant !== 'good') {
          await writeFile(join(repo.work, 'hosts', `${BROKEN}.nix`), '{\n  version = "x";\n}}\n');
        }
        shas.push(await repo.commit(`run ${i}: ${variant}`));
      }
      const [goodSha = '', brokenSha = '', serialSha = ''] = shas;
      const a = await measure(urlOf(goodSha), 2, false);
      const b = await measure(urlOf(brokenSha), 2, true);
      const c = await measure(urlOf(serialSha), 1, true);
      if (i === 0) continue; // warm-up: Nix's own caches, the page cache
      good.push(a.total);
      fallback.push(b.total);
      serial.push(c.total);
      for (const call of b.calls) phases[call.kind]?.push(call.ms);
      console.log(
        `run ${i}: one call ${a.total.toFixed(0)} ms; broken host, host by host ×2 ${b.total.toFixed(0)} ms, ×1 ${c.total.toFixed(0)} ms`,
      );
    }
    const result = {
      runs: RUNS,
      nixosHosts: NIXOS.length,
      oneCallMedianMs: Math.round(median(good)),
      fallbackConcurrency2MedianMs: Math.round(median(fallback)),
      fallbackConcurrency1MedianMs: Math.round(median(serial)),
      ratioFallbackToOneCall: Number((median(fallback) / median(good)).toFixed(2)),
      fallbackPhasesMedianMs: {
        failedOneCall: Math.round(median(phases.combined ?? [])),
        listNames: Math.round(median(phases.names ?? [])),
        eachHostCall: Math.round(median(phases.host ?? [])),
      },
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
