/**
 * `npm run bench:events -- [--agents N] [--subscribers 0,1,10,100] [--seconds S] [--heartbeat S]`
 *
 * What live events cost the controller. Starts a real controller process, registers and
 * enrolls N hosts through the API and connects N simulated agents from this process (real
 * protocol: signed hello, facts, heartbeats with metrics), then, for each subscriber count
 * in turn, holds that many `GET /api/v1/events` streams open (read by this process over
 * `fetch`) and measures the controller's CPU time per second and the events each
 * subscriber receives. 0 subscribers, first in the same run, is the baseline.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { HostList } from '@flotilla/protocol';
import { EventStreamClient, JsonClient, startController } from '@flotilla/sandbox';
import type WebSocket from 'ws';
import { connectAgents, cpuTicks, registerAndEnroll, rssMiB } from './simulated-agents.js';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    subscribers: { type: 'string', default: '0,1,10,100' },
    seconds: { type: 'string', default: '20' },
    heartbeat: { type: 'string', default: '5' },
  },
});
const AGENTS = Number(values.agents);
const SUBSCRIBERS = values.subscribers.split(',').map(Number);
const SECONDS = Number(values.seconds);
const HEARTBEAT = Number(values.heartbeat);
if (
  !(AGENTS > 0) ||
  !(SECONDS > 0) ||
  !(HEARTBEAT > 0) ||
  SUBSCRIBERS.some((n) => !Number.isInteger(n) || n < 0)
) {
  console.error(
    'usage: bench-events [--agents N] [--subscribers 0,1,10,100] [--seconds S] [--heartbeat S]',
  );
  process.exit(2);
}

interface Phase {
  subscribers: number;
  /** Controller CPU seconds per wall-clock second (1 = one core busy). */
  cpuSecondsPerSecond: number;
  /** Events each subscriber received per second (mean over subscribers). */
  eventsPerSecondEach: number;
  /** Hosts named per `hosts.changed` (mean). */
  hostsPerEvent: number;
  /** Bytes each subscriber received per second, estimated from the events' JSON. */
  bytesPerSecondEach: number;
  controllerRssMiB: number;
}

/** Opens `count` streams and waits until each has its `ready`. */
async function subscribe(url: string, token: string, count: number) {
  const streams = await Promise.all(
    Array.from({ length: count }, () =>
      EventStreamClient.open(`${url}/api/v1/events`, { authorization: `Bearer ${token}` }),
    ),
  );
  for (const stream of streams) {
    if (stream.status !== 200) throw new Error(`GET /api/v1/events answered ${stream.status}`);
    await stream.next((e) => e.type === 'ready', 'ready', 60_000);
  }
  return streams;
}

async function measure(
  pid: number,
  url: string,
  token: string,
  subscribers: number,
): Promise<Phase> {
  const streams = await subscribe(url, token, subscribers);
  // Settle: connections made, the first coalescing windows passed.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const counted = streams.map((s) => s.events.length);
  const ticksBefore = await cpuTicks(pid);
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const ticks = (await cpuTicks(pid)) - ticksBefore;
  const elapsed = (Date.now() - started) / 1000;
  const received = streams.map((s, i) => s.events.slice(counted[i]));
  const ended = streams.filter((s) => s.ended).length;
  if (ended > 0) throw new Error(`${ended} of ${subscribers} streams ended during the run`);
  const all = received.flat();
  const hostEvents = all.flatMap((e) => (e.event.type === 'hosts.changed' ? [e.event] : []));
  const bytes = all.reduce((sum, e) => sum + JSON.stringify(e.event).length + 40, 0);
  const phase: Phase = {
    subscribers,
    cpuSecondsPerSecond: Number((ticks / 100 / elapsed).toFixed(3)),
    eventsPerSecondEach:
      subscribers === 0 ? 0 : Number((all.length / subscribers / elapsed).toFixed(2)),
    hostsPerEvent:
      hostEvents.length === 0
        ? 0
        : Number(
            (hostEvents.reduce((n, e) => n + e.names.length, 0) / hostEvents.length).toFixed(1),
          ),
    bytesPerSecondEach: subscribers === 0 ? 0 : Math.round(bytes / subscribers / elapsed),
    controllerRssMiB: Number((await rssMiB(pid)).toFixed(0)),
  };
  for (const stream of streams) stream.close();
  return phase;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-events-'));
  const config = join(dir, 'controller.json');
  await writeFile(
    config,
    JSON.stringify({
      agents: { heartbeatIntervalSeconds: HEARTBEAT },
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
    const identities = await registerAndEnroll(api, names);
    console.log(`connecting ${AGENTS} agents (a heartbeat every ${HEARTBEAT} s each)…`);
    await connectAgents(controller.url, identities, sockets, HEARTBEAT);
    await JsonClient.until(
      async () => {
        const list = (await api.get<HostList>('/api/v1/hosts?limit=1')).body;
        return list.counts.online === AGENTS ? list : undefined;
      },
      'all agents online',
      120_000,
    );
    // Past the connects' batched writes, so every phase sees only heartbeats.
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const phases: Phase[] = [];
    for (const subscribers of SUBSCRIBERS) {
      console.log(`measuring ${SECONDS} s with ${subscribers} subscribers…`);
      phases.push(await measure(pid, controller.url, controller.adminToken, subscribers));
    }
    const baseline = phases.find((p) => p.subscribers === 0)?.cpuSecondsPerSecond;
    const online = (await api.get<HostList>('/api/v1/hosts?limit=1')).body.counts.online;
    console.log(
      JSON.stringify(
        {
          agents: AGENTS,
          heartbeatSeconds: HEARTBEAT,
          secondsPerPhase: SECONDS,
          online,
          phases: phases.map((p) => ({
            ...p,
            cpuRatioToNoSubscribers:
              baseline === undefined || baseline === 0
                ? null
                : Number((p.cpuSecondsPerSecond / baseline).toFixed(2)),
          })),
        },
        null,
        2,
      ),
    );
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
