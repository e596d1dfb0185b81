/**
 * `npm run bench:agents -- --agents N [--seconds S] [--heartbeat S]`
 *
 * Starts a real controller process, registers N hosts and enrolls an Ed25519 key for each
 * through the API (the agent's own enrollment call), connects N simulated agents from this
 * process (real WebSocket, real protocol: the signed challenge, hello, facts, heartbeats
 * with metrics) and, while they heartbeat, measures `GET /api/v1/hosts` latency
 * sequentially plus the controller's RSS and CPU. The same latency measurement with no
 * agents connected, in the same run, is the baseline.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { HostList } from '@flotilla/protocol';
import { JsonClient, startController } from '@flotilla/sandbox';
import type WebSocket from 'ws';
import { connectAgents, cpuTicks, registerAndEnroll, rssMiB } from './simulated-agents.js';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '30' },
    heartbeat: { type: 'string', default: '5' },
  },
});
const AGENTS = Number(values.agents);
const SECONDS = Number(values.seconds);
const HEARTBEAT = Number(values.heartbeat);
if (!(AGENTS > 0) || !(SECONDS > 0) || !(HEARTBEAT > 0)) {
  console.error('usage: bench-agents --agents N [--seconds S] [--heartbeat S]');
  process.exit(2);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Sequential GET /api/v1/hosts for `seconds`; returns sorted latencies in ms. */
async function measureList(api: JsonClient, seconds: number): Promise<number[]> {
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const start = process.hrtime.bigint();
    const response = await api.get<HostList>('/api/v1/hosts');
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (response.status !== 200) throw new Error(`GET /api/v1/hosts answered ${response.status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return latencies.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-'));
  const config = join(dir, 'controller.json');
  // A snapshot every 20 s, so that the measured window includes the batched write of all hosts.
  await writeFile(
    config,
    JSON.stringify({
      agents: { heartbeatIntervalSeconds: HEARTBEAT, snapshotIntervalSeconds: 20 },
      // Every simulated agent connects from 127.0.0.1.
      limits: { agentConnectionsPerAddress: AGENTS + 100, agentConnectionsTotal: AGENTS + 100 },
    }),
  );
  const controller = await startController({
    stateDir: join(dir, 'state'),
    env: { FLOTILLA_LOG_LEVEL: 'info', FLOTILLA_CONFIG: config },
  });
  const pid = controller.process.pid;
  if (pid === undefined) throw new Error('controller has no pid');
  const api = new JsonClient(controller.url, controller.adminToken);
  const sockets: WebSocket[] = [];
  try {
    console.log(`registering ${AGENTS} hosts and enrolling a key for each…`);
    const names = Array.from({ length: AGENTS }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
    const enrollStart = Date.now();
    const identities = await registerAndEnroll(api, names);
    const enrollSeconds = (Date.now() - enrollStart) / 1000;

    console.log(
      `baseline: GET /api/v1/hosts with no agents connected for ${Math.min(10, SECONDS)} s…`,
    );
    const idle = await measureList(api, Math.min(10, SECONDS));

    console.log(`connecting ${AGENTS} agents…`);
    const connectStart = Date.now();
    await connectAgents(controller.url, identities, sockets, HEARTBEAT);
    const connectSeconds = (Date.now() - connectStart) / 1000;
    await JsonClient.until(
      async () => {
        const list = (await api.get<HostList>('/api/v1/hosts?limit=1')).body;
        return list.counts.online === AGENTS ? list : undefined;
      },
      'all agents online',
      120_000,
    );

    console.log(
      `measuring for ${SECONDS} s with ${AGENTS} agents heartbeating every ${HEARTBEAT} s…`,
    );
    const ticksBefore = await cpuTicks(pid);
    const started = Date.now();
    const loaded = await measureList(api, SECONDS);
    const elapsed = (Date.now() - started) / 1000;
    const cpuPercent = (((await cpuTicks(pid)) - ticksBefore) / 100 / elapsed) * 100;
    const rss = await rssMiB(pid);
    const online = (await api.get<HostList>('/api/v1/hosts?limit=1')).body.counts.online;

    const result = {
      agents: AGENTS,
      heartbeatSeconds: HEARTBEAT,
      online,
      registerAndEnrollSeconds: Number(enrollSeconds.toFixed(1)),
      connectSeconds: Number(connectSeconds.toFixed(1)),
      controllerRssMiB: Number(rss.toFixed(0)),
      controllerCpuPercent: Number(cpuPercent.toFixed(1)),
      requests: loaded.length,
      idleP50Ms: Number(percentile(idle, 50).toFixed(2)),
      idleP99Ms: Number(percentile(idle, 99).toFixed(2)),
      loadedP50Ms: Number(percentile(loaded, 50).toFixed(2)),
      loadedP99Ms: Number(percentile(loaded, 99).toFixed(2)),
      p99RatioLoadedToIdle: Number((percentile(loaded, 99) / percentile(idle, 99)).toFixed(2)),
    };
    console.log(JSON.stringify(result, null, 2));
    if (online !== AGENTS) throw new Error(`only ${online} of ${AGENTS} agents stayed online`);
  } finally {
    for (const socket of sockets) socket.terminate();
    await controller.process.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
