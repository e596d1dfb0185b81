/**
 * Simulated agents for the benchmarks: hosts registered and enrolled through the API, then
 * connected from this process over the real protocol (signed hello, facts, heartbeats with
 * metrics), plus readings of a process's CPU time and memory.
 */
import { readFile } from 'node:fs/promises';
import {
  FLOTILLA_VERSION,
  PROTOCOL_VERSION,
  type ControllerMessage,
  type CreateHostResponse,
  type Facts,
} from '@flotilla/protocol';
import {
  agentGatewayUrl,
  enrollIdentity,
  newAgentIdentity,
  signChallenge,
  type AgentIdentity,
  type JsonClient,
} from '@flotilla/sandbox';
import WebSocket from 'ws';

/** Made-up load, memory and disk figures, different each time. */
export function metrics(): Facts['metrics'] {
  return {
    uptimeSeconds: 1000 + Math.random() * 1000,
    load: [Math.random(), Math.random(), Math.random()],
    memory: { totalBytes: 16e9, availableBytes: 8e9 + Math.random() * 1e9 },
    disks: [{ mount: '/', totalBytes: 5e11, freeBytes: 2e11 }],
  };
}

/** Facts of a plain NixOS host named `name`. */
export function facts(name: string): Facts {
  return {
    hostname: name,
    os: 'linux',
    kernel: '6.6.0',
    osRelease: { id: 'nixos', name: 'NixOS', versionId: '24.05', prettyName: 'NixOS 24.05' },
    machineId: null,
    bootId: null,
    system: { current: null, booted: null, bootDefault: null },
    nixosVersion: '24.05',
    configurationRevision: null,
    generations: [],
    rebootRequired: false,
    failedUnits: null,
    metrics: metrics(),
    darwin: null,
    collectedAt: new Date().toISOString(),
  };
}

/**
 * One simulated agent: connects, answers the challenge with a signed hello, sends facts,
 * then heartbeats with metrics every `heartbeatSeconds` (the first at a random point of
 * the interval) until its socket closes; the open socket is added to `sockets`.
 */
export function connectAgent(
  url: string,
  origin: string,
  identity: AgentIdentity,
  sockets: WebSocket[],
  heartbeatSeconds: number,
): Promise<void> {
  const name = identity.host;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let seq = 0;
    socket.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString('utf8')) as ControllerMessage;
      if (message.type === 'challenge') {
        socket.send(
          JSON.stringify({
            type: 'hello',
            protocolVersion: PROTOCOL_VERSION,
            host: name,
            os: 'linux',
            mode: 'managed',
            agentVersion: FLOTILLA_VERSION,
            auth: signChallenge(identity, { nonce: message.nonce, origin }),
          }),
        );
        return;
      }
      if (message.type === 'error') {
        reject(new Error(`${name}: ${message.error.code}: ${message.error.message}`));
        return;
      }
      if (message.type !== 'welcome') return;
      socket.send(JSON.stringify({ type: 'facts', facts: facts(name) }));
      // Spread heartbeats evenly over the interval, as real agents started at random times would.
      setTimeout(
        () => {
          const timer = setInterval(() => {
            if (socket.readyState === WebSocket.OPEN) {
              socket.send(JSON.stringify({ type: 'heartbeat', seq: ++seq, metrics: metrics() }));
            }
          }, heartbeatSeconds * 1000);
          socket.once('close', () => clearInterval(timer));
        },
        Math.random() * heartbeatSeconds * 1000,
      );
      sockets.push(socket);
      resolve();
    });
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

/** CPU time the process `pid` used so far (user + system), in clock ticks (1/100 s). */
export async function cpuTicks(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
}

/** The resident memory of process `pid`, in MiB. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Registers each of `names` through the API and enrolls a fresh key for it (32 at a time). */
export async function registerAndEnroll(
  api: JsonClient,
  names: readonly string[],
): Promise<Map<string, AgentIdentity>> {
  const identities = new Map<string, AgentIdentity>();
  await pool(names, 32, async (name) => {
    const response = await api.post<CreateHostResponse>('/api/v1/hosts', { name });
    if (response.status !== 201) throw new Error(`register ${name}: ${response.status}`);
    const identity = newAgentIdentity(name);
    const enrolled = await enrollIdentity(api.baseUrl, identity, response.body.enrollment.token);
    if (enrolled.status !== 201) throw new Error(`enroll ${name}: ${enrolled.status}`);
    identities.set(name, identity);
  });
  return identities;
}

/** Connects an agent for each identity (200 handshakes at a time); their sockets go to `sockets`. */
export async function connectAgents(
  controllerUrl: string,
  identities: ReadonlyMap<string, AgentIdentity>,
  sockets: WebSocket[],
  heartbeatSeconds: number,
): Promise<void> {
  const url = agentGatewayUrl(controllerUrl);
  const origin = new URL(controllerUrl).origin;
  await pool([...identities.values()], 200, (identity) =>
    connectAgent(url, origin, identity, sockets, heartbeatSeconds),
  );
}
