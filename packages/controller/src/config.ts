import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const Listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT, e.g. 127.0.0.1:8080')
  .transform((value) => {
    const index = value.lastIndexOf(':');
    return {
      host: value.slice(0, index).replace(/^\[|\]$/g, ''),
      port: Number(value.slice(index + 1)),
    };
  })
  .refine((l) => l.port <= 65535, 'port must be at most 65535');

export const ControllerConfig = z
  .object({
    /** Where the database, admin token and (later) cache keys live. */
    stateDir: z.string().min(1).default('/var/lib/flotilla'),
    listen: Listen.default({ host: '127.0.0.1', port: 8080 }),
    /** `sqlite:<file>` or `postgres://…`; default: SQLite file `flotilla.db` in stateDir. */
    databaseUrl: z.string().min(1).optional(),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    agents: z
      .object({
        heartbeatIntervalSeconds: z.number().positive().max(3600).default(15),
        missedHeartbeatsAllowed: z.number().int().min(2).max(100).default(3),
        snapshotIntervalSeconds: z.number().positive().max(3600).default(60),
      })
      .strict()
      .default({
        heartbeatIntervalSeconds: 15,
        missedHeartbeatsAllowed: 3,
        snapshotIntervalSeconds: 60,
      }),
  })
  .strict();
export type ControllerConfig = z.infer<typeof ControllerConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const USAGE = `usage: flotilla-controller [--config FILE] [--state-dir DIR] [--listen HOST:PORT]

Configuration is read from FILE (JSON), then environment variables, then flags:
  FLOTILLA_CONFIG                      path of the JSON config file
  FLOTILLA_STATE_DIR                   state directory (database, admin token)
  FLOTILLA_LISTEN                      HOST:PORT to listen on (default 127.0.0.1:8080)
  FLOTILLA_DATABASE_URL                sqlite:<file> or postgres://… (default SQLite in the state dir)
  FLOTILLA_LOG_LEVEL                   fatal|error|warn|info|debug|trace|silent
  FLOTILLA_HEARTBEAT_INTERVAL_SECONDS  how often agents send heartbeats (default 15)`;

/**
 * Reads the configuration once: file, then env, then flags. Every problem is collected
 * and reported together, so a broken config is fixed in one round.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ControllerConfig {
  const problems: string[] = [];
  let flags: Record<string, string | boolean | undefined> = {};
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string' },
        'state-dir': { type: 'string' },
        listen: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    problems.push((error as Error).message);
  }

  let file: Record<string, unknown> = {};
  const configPath = (flags.config as string | undefined) ?? env.FLOTILLA_CONFIG;
  if (configPath !== undefined) {
    try {
      const data: unknown = JSON.parse(readFileSync(configPath, 'utf8'));
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        problems.push(`${configPath}: must contain a JSON object`);
      } else {
        file = data as Record<string, unknown>;
      }
    } catch (error) {
      problems.push(`${configPath}: ${(error as Error).message}`);
    }
  }

  const merged: Record<string, unknown> = { ...file };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) merged[key] = value;
  };
  set('stateDir', env.FLOTILLA_STATE_DIR);
  set('listen', env.FLOTILLA_LISTEN);
  set('databaseUrl', env.FLOTILLA_DATABASE_URL);
  set('logLevel', env.FLOTILLA_LOG_LEVEL);
  if (env.FLOTILLA_HEARTBEAT_INTERVAL_SECONDS !== undefined) {
    merged.agents = {
      ...(typeof file.agents === 'object' ? file.agents : {}),
      heartbeatIntervalSeconds: Number(env.FLOTILLA_HEARTBEAT_INTERVAL_SECONDS),
    };
  }
  set('stateDir', flags['state-dir']);
  set('listen', flags.listen);

  const parsed = ControllerConfig.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return { ...parsed.data, stateDir: resolve(parsed.data.stateDir) };
}

export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
