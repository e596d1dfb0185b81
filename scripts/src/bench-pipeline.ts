/**
 * `npm run bench:pipeline -- [--runs N]`
 *
 * Time from a signed GitHub push webhook to a ready release, for a nine-host flake where one
 * host changed, against the time of a bare `nix build` of that host's changed system (the
 * baseline, measured in the same run on an equally new derivation). The difference is the
 * pipeline's overhead: fetch, one evaluation of all hosts, queueing, the build, signing and
 * copying into the cache, and recording the release.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ReleaseList } from '@flotilla/protocol';
import {
  GitFlakeRepo,
  JsonClient,
  run,
  startController,
  toplevelAttr,
  writeHost,
  writeSandboxFlake,
} from '@flotilla/sandbox';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const RUNS = Number(values.runs);
const HOSTS = [
  'csb1',
  'csb0',
  'hsb0',
  'hsb1',
  'hsb8',
  'gpc0',
  'imac0',
  'mba-imac-work',
  'mba-mbp-work',
];
const CHANGED = 'gpc0';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function timeBareBuild(dir: string, version: string): Promise<number> {
  await writeHost(dir, { name: CHANGED, version });
  const start = performance.now();
  const result = await run('nix', [
    'build',
    '--no-link',
    '--json',
    toplevelAttr(`path:${dir}`, CHANGED),
  ]);
  const elapsed = performance.now() - start;
  if (result.code !== 0) throw new Error(`bare nix build failed: ${result.stderr}`);
  return elapsed;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-pipeline-'));
  const tag = randomBytes(4).toString('hex');
  const secret = randomBytes(16).toString('hex');
  try {
    const repo = await GitFlakeRepo.create(join(dir, 'github'));
    await writeSandboxFlake(
      repo.work,
      HOSTS.map((name) => ({ name, version: `${tag}-0` })),
    );
    await repo.commit('nine hosts');
    await repo.push();
    const bare = join(dir, 'bare-flake');
    await writeSandboxFlake(
      bare,
      HOSTS.map((name) => ({ name, version: `${tag}-0` })),
    );
    const secretFile = join(dir, 'secret');
    await writeFile(secretFile, secret);
    const configFile = join(dir, 'controller.json');
    await writeFile(
      configFile,
      JSON.stringify({
        repository: { url: repo.bare, pollIntervalSeconds: 3600, webhookSecretFile: secretFile },
      }),
    );
    const controller = await startController({
      stateDir: join(dir, 'state'),
      env: { FLOTILLA_LOG_LEVEL: 'info', FLOTILLA_CONFIG: configFile },
    });
    const api = new JsonClient(controller.url, controller.adminToken);
    const ready = async (host?: string) =>
      (await api.get<ReleaseList>(`/api/v1/releases?status=ready${host ? `&host=${host}` : ''}`))
        .body.releases;
    try {
      console.log('waiting for the first nine releases…');
      await JsonClient.until(
        async () => ((await ready()).length === HOSTS.length ? true : undefined),
        'initial releases',
        120_000,
      );

      const pipeline: number[] = [];
      const baseline: number[] = [];
      for (let i = 1; i <= RUNS; i++) {
        await writeHost(repo.work, { name: CHANGED, version: `${tag}-${i}` });
        const sha = await repo.commit(`${CHANGED}: run ${i}`);
        await repo.push();
        const body = JSON.stringify({ ref: 'refs/heads/main', after: sha });
        const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
        const start = performance.now();
        const answer = await api.request('POST', '/api/v1/webhooks/github', body, {
          'x-github-event': 'push',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': signature,
        });
        if (answer.status !== 202) throw new Error(`webhook answered ${answer.status}`);
        await JsonClient.until(
          async () => ((await ready(CHANGED)).some((r) => r.sha === sha) ? true : undefined),
          `the release of run ${i}`,
          60_000,
        );
        pipeline.push(performance.now() - start);
        baseline.push(await timeBareBuild(bare, `${tag}-bare-${i}`));
        console.log(
          `run ${i}: webhook→release ${pipeline.at(-1)?.toFixed(0)} ms, bare nix build ${baseline.at(-1)?.toFixed(0)} ms`,
        );
      }
      const result = {
        runs: RUNS,
        hosts: HOSTS.length,
        webhookToReleaseMedianMs: Math.round(median(pipeline)),
        bareNixBuildMedianMs: Math.round(median(baseline)),
        overheadMedianMs: Math.round(median(pipeline) - median(baseline)),
        ratioPipelineToBare: Number((median(pipeline) / median(baseline)).toFixed(2)),
      };
      console.log(JSON.stringify(result, null, 2));
    } finally {
      await controller.process.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
