import type { HealthCheck, HealthCheckResult } from '@flotilla/protocol';
import { describeExit, type ProcessRunner, type RunResult } from '@flotilla/runtime';

/** Runs one health check after an activation. Never rejects: a check that cannot run fails. */
export interface HealthChecker {
  run(check: HealthCheck): Promise<HealthCheckResult>;
}

export interface HostHealthCheckerOptions {
  runner: ProcessRunner;
  /** Environment of `command` checks and systemctl: the agent's, without secrets. */
  env: Record<string, string>;
  /** Whether systemd runs this host; `unit` checks fail without it. */
  systemd: boolean;
  /** Injected for tests; the global fetch by default. */
  fetch?: typeof fetch;
}

const MAX_NAME = 200;
const MAX_DETAIL = 2000;

/** How a check is named in results and rollback reasons, e.g. `http http://localhost/health`. */
export function healthCheckName(check: HealthCheck): string {
  switch (check.kind) {
    case 'unit':
      return clip(`unit ${check.unit}`, MAX_NAME);
    case 'http':
      return clip(`http ${check.url}`, MAX_NAME);
    case 'command':
      return clip(`command ${check.argv.join(' ')}`, MAX_NAME);
  }
}

/** Runs checks on this host: `systemctl is-active`, an HTTP GET, a program (never a shell). */
export class HostHealthChecker implements HealthChecker {
  constructor(private readonly options: HostHealthCheckerOptions) {}

  async run(check: HealthCheck): Promise<HealthCheckResult> {
    const timeoutMs = check.timeoutSeconds * 1000;
    let outcome: { ok: boolean; detail: string };
    try {
      switch (check.kind) {
        case 'unit':
          outcome = await this.unit(check.unit, timeoutMs);
          break;
        case 'http':
          outcome = await this.http(check.url, timeoutMs);
          break;
        case 'command':
          outcome = await this.command(check.argv, timeoutMs);
          break;
      }
    } catch (error) {
      outcome = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    return {
      name: healthCheckName(check),
      ok: outcome.ok,
      detail: clip(outcome.detail, MAX_DETAIL),
    };
  }

  private async unit(unit: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    if (!this.options.systemd) {
      return { ok: false, detail: `cannot check unit ${unit}: systemd does not run this host` };
    }
    const result = await this.options.runner.run('systemctl', ['is-active', unit], {
      env: this.options.env,
      timeoutMs,
      captureStdout: true,
    });
    // is-active prints the state (active, inactive, failed, activating…) and exits 0 only for active.
    const state = result.stdout.trim() || describeRun(result, timeoutMs);
    return { ok: result.exitCode === 0, detail: `${unit} is ${state}` };
  }

  private async http(url: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    const fetchImpl = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method: 'GET',
        redirect: 'follow',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') {
        return { ok: false, detail: `no answer within ${timeoutMs / 1000} s` };
      }
      return { ok: false, detail: `request failed: ${fetchErrorMessage(error)}` };
    }
    // Only the status matters; the body is not read.
    await response.body?.cancel().catch(() => {});
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      detail: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
    };
  }

  private async command(
    argv: string[],
    timeoutMs: number,
  ): Promise<{ ok: boolean; detail: string }> {
    const [program, ...args] = argv;
    if (program === undefined) return { ok: false, detail: 'empty command' };
    const result = await this.options.runner.run(program, args, {
      env: this.options.env,
      timeoutMs,
    });
    if (result.exitCode === 0) return { ok: true, detail: 'exited 0' };
    const lastError = result.stderrTail.filter((line) => line.trim() !== '').at(-1);
    const detail = describeRun(result, timeoutMs);
    return {
      ok: false,
      detail: lastError === undefined ? detail : `${detail}: ${lastError.trim()}`,
    };
  }
}

function describeRun(result: RunResult, timeoutMs: number): string {
  if (result.timedOut) return `timed out after ${timeoutMs / 1000} s`;
  return describeExit(result);
}

/** fetch() says only "fetch failed"; the reason (ECONNREFUSED, a DNS error…) is in its cause. */
function fetchErrorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof Error && cause.message !== '') return cause.message;
  return error.message;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
