export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where log lines are written. */
export interface LogOutput {
  write(text: string): unknown;
}

/** Extra structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

export interface LoggerOptions {
  level: LogLevel;
  /** Where the JSON lines go; stdout in production. */
  output?: LogOutput;
  /** Fields repeated on every line (e.g. the deployment being run). */
  fields?: LogFields;
  now?: () => Date;
}

/**
 * Writes structured logs as one JSON object per line: `time`, `level`, `msg`, then fields.
 * Errors in fields are reduced to their message so stacks never flood the log.
 */
export class Logger {
  private readonly minimum: number;
  private readonly output: LogOutput;
  private readonly fields: LogFields;
  private readonly now: () => Date;

  constructor(private readonly options: LoggerOptions) {
    this.minimum = LOG_LEVELS.indexOf(options.level);
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
    const line = { time: this.now().toISOString(), level, msg, ...this.fields, ...fields };
    this.output.write(JSON.stringify(line, replaceErrors) + '\n');
  }
}

function replaceErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}
