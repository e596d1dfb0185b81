export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where log lines are written. */
export interface LogOutput {
  write(text: string): unknown;
}

/** Extra structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

export interface LoggerOptions {
  level: LogLevel | 'silent';
  /** Where the JSON lines go; stdout in production. */
  output?: LogOutput;
  /** Fields repeated on every line (e.g. `service`, the deployment being run). */
  fields?: LogFields;
  now?: () => Date;
}

/**
 * The one log format of every Flotilla program: one JSON object per line with `time`
 * (ISO 8601), `level` (a word), `service`, then `msg` and fields. The controller's pino
 * logger is configured to write the same shape ({@link PINO_FORMAT}). Errors in fields
 * are reduced to their message so stacks never flood the log.
 */
export class Logger {
  private readonly minimum: number;
  private readonly output: LogOutput;
  private readonly fields: LogFields;
  private readonly now: () => Date;

  constructor(private readonly options: LoggerOptions) {
    this.minimum =
      options.level === 'silent' ? LOG_LEVELS.length : LOG_LEVELS.indexOf(options.level);
    this.output = options.output ?? process.stdout;
    this.fields = options.fields ?? {};
    this.now = options.now ?? (() => new Date());
  }

  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger {
    return new Logger({ ...this.options, fields: { ...this.fields, ...fields } });
  }

  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (LOG_LEVELS.indexOf(level) < this.minimum) return;
    const line = { time: this.now().toISOString(), level, ...this.fields, msg, ...fields };
    this.output.write(JSON.stringify(line, replaceErrors) + '\n');
  }
}

function replaceErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}

/**
 * pino options that make pino write {@link Logger}'s format: ISO `time`, `level` as a
 * word (set `base` to the service's fields: pino's default adds pid and hostname).
 */
export const PINO_FORMAT = {
  timestamp: () => `,"time":"${new Date().toISOString()}"`,
  formatters: { level: (label: string) => ({ level: label }) },
} as const;
