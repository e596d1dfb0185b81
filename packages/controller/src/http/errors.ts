import { FlotillaError, type ErrorBody, type ErrorCode } from '@flotilla/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';

/** The one place where error codes become HTTP statuses. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  malformed_message: 400,
  invalid_message: 400,
  unknown_message_type: 400,
  message_too_large: 413,
  protocol_version_mismatch: 426,
  hello_required: 400,
  host_mismatch: 403,
  unauthorized: 401,
  forbidden: 403,
  scope_forbidden: 403,
  csrf_failed: 403,
  step_up_required: 403,
  // The password was right: 403, so the per-address failure limit does not count it.
  totp_required: 403,
  invalid_credentials: 401,
  account_locked: 423,
  setup_done: 409,
  confirmation_required: 400,
  user_exists: 409,
  user_not_found: 404,
  token_not_found: 404,
  rate_limited: 429,
  enrollment_token_invalid: 401,
  enrollment_token_expired: 401,
  enrollment_token_used: 401,
  agent_not_enrolled: 401,
  public_key_in_use: 409,
  validation_failed: 400,
  not_found: 404,
  host_not_found: 404,
  host_exists: 409,
  deployment_not_found: 404,
  host_not_managed: 409,
  deployment_in_progress: 409,
  invalid_store_path: 400,
  payload_too_large: 413,
  fetch_failed: 502,
  profile_failed: 502,
  activation_failed: 502,
  agent_busy: 409,
  reboot_failed: 502,
  reboot_not_requested: 409,
  verification_failed: 502,
  untrusted_closure: 502,
  agent_disconnected: 503,
  // Plans carry these as their reason; no route answers with them.
  closure_diff_failed: 502,
  dry_activate_failed: 502,
  prefetch_disabled: 409,
  agent_unsupported: 409,
  deployment_started: 409,
  deployment_ended: 409,
  repository_not_linked: 409,
  repository_locked: 409,
  invalid_signature: 401,
  webhook_not_configured: 404,
  webhook_replayed: 409,
  git_failed: 502,
  ref_not_found: 404,
  preview_ref_not_allowed: 400,
  revision_not_found: 404,
  revision_ambiguous: 409,
  evaluation_failed: 422,
  build_not_found: 404,
  build_not_cancellable: 409,
  build_not_retryable: 409,
  release_not_found: 404,
  cache_unavailable: 503,
  file_not_found: 404,
  file_not_text: 415,
  file_too_large: 413,
  draft_not_found: 404,
  draft_stale: 409,
  draft_busy: 409,
  draft_empty: 409,
  draft_conflict: 409,
  draft_check_failed: 422,
  policy_locked: 409,
  approval_not_allowed: 409,
  nothing_to_approve: 404,
  rollout_halted: 409,
  rollout_not_halted: 409,
  graduation_required: 409,
  deployment_not_cancellable: 409,
  database_unavailable: 503,
  internal_error: 500,
};

/** Maps Fastify's own errors (body parsing, limits) onto stable codes. */
function fromFastifyError(error: FastifyError): FlotillaError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new FlotillaError(
        'validation_failed',
        `request body is not valid JSON: ${error.message}`,
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FlotillaError('payload_too_large', 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new FlotillaError('validation_failed', 'request body must be application/json');
    default:
      if (error instanceof SyntaxError || error.statusCode === 400) {
        return new FlotillaError('validation_failed', error.message);
      }
      return undefined;
  }
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = error instanceof FlotillaError ? error : fromFastifyError(error);
    if (!known) {
      request.log.error({ err: error, path: request.url.split('?')[0] }, 'request failed');
      const body: ErrorBody = { code: 'internal_error', message: 'internal error' };
      return reply.status(500).send({ error: body });
    }
    const status = STATUS_BY_CODE[known.code];
    // The path only: a query string may hold a token someone put there.
    const where = { code: known.code, client: request.ip, path: request.url.split('?')[0] };
    if (status >= 500) request.log.error(where, known.message);
    else request.log.info(where, known.message);
    const retryAfter = (known.details as { retryAfterSeconds?: unknown } | undefined)
      ?.retryAfterSeconds;
    if (known.code === 'rate_limited' && typeof retryAfter === 'number') {
      reply.header('retry-after', String(retryAfter));
    }
    return reply.status(status).send({ error: known.toBody() });
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      code: 'not_found',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    };
    return reply.status(404).send({ error: body });
  });
}
