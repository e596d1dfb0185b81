import type { ErrorCode } from '@flotilla/protocol';

/** Codes for failures on the browser's side of the wire; the controller never sends them. */
export type LocalErrorCode =
  'connection_failed' | 'invalid_response' | 'unexpected_response' | 'step_up_cancelled';

/**
 * A failed API call with a stable code: the controller's (`host_not_found`,
 * `step_up_required`, …) or a local one. Views match codes, never message text.
 */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | LocalErrorCode,
    message: string,
    /** The HTTP status; null when no answer arrived. */
    readonly status: number | null,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Whether an error means the browser is not (or no longer) logged in. */
export function isUnauthenticated(error: unknown): boolean {
  return (
    error instanceof ApiError && (error.code === 'unauthorized' || error.code === 'csrf_failed')
  );
}

/** A message for people from any error. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
