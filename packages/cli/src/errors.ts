import type { ErrorBody, ErrorCode } from '@flotilla/protocol';
import type { z } from 'zod';

/**
 * Codes for failures that happen on the CLI's side of the wire, so they never come from the
 * controller: the network, an answer the CLI cannot read, or local configuration.
 */
export type LocalErrorCode =
  | 'connection_failed'
  | 'invalid_response'
  | 'unexpected_response'
  | 'invalid_context_file'
  | 'context_not_found'
  | 'not_configured'
  | 'invalid_setting'
  | 'token_unreadable'
  | 'input_missing'
  | 'passwords_differ';

/** Every code a CLI error can carry: the controller's stable codes plus the local ones. */
export type CliErrorCode = ErrorCode | LocalErrorCode;

/** An error with a stable code; the CLI prints it as `error: <message> (<code>)` and exits 1. */
export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CliError';
  }

  /** The error in the shape the controller uses, for `--json` output. */
  toBody(): { code: CliErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** A failed API call. `status` is the HTTP status, or null when no answer arrived. */
export class ApiError extends CliError {
  constructor(
    code: CliErrorCode,
    message: string,
    readonly status: number | null,
    details?: unknown,
  ) {
    super(code, message, details);
    this.name = 'ApiError';
  }

  /** Builds the error from an `{"error": ErrorBody}` answer. */
  static fromBody(status: number, body: ErrorBody): ApiError {
    return new ApiError(body.code, body.message, status, body.details);
  }
}

/** The command line itself is wrong; the CLI prints the usage line and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One line naming each invalid field, e.g. `name: must be a lowercase host name`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
}
