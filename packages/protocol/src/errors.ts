import * as z from 'zod';

/**
 * Stable error codes shared by the wire protocol, the HTTP API and the CLI.
 * Clients match on these codes, never on message text.
 */
export const ErrorCode = z.enum([
  // wire protocol
  'malformed_message',
  'invalid_message',
  'unknown_message_type',
  'message_too_large',
  'protocol_version_mismatch',
  'hello_required',
  'host_mismatch',
  // auth
  'unauthorized',
  'forbidden',
  'scope_forbidden',
  'csrf_failed',
  'step_up_required',
  'totp_required',
  'invalid_credentials',
  'account_locked',
  'setup_done',
  'confirmation_required',
  'user_exists',
  'user_not_found',
  'token_not_found',
  // too many failed attempts or connections from one client address
  'rate_limited',
  // agent identities
  'enrollment_token_invalid',
  'enrollment_token_expired',
  'enrollment_token_used',
  'agent_not_enrolled',
  'public_key_in_use',
  // validation and lookup
  'validation_failed',
  'not_found',
  'host_not_found',
  'host_exists',
  'deployment_not_found',
  'host_not_managed',
  'deployment_in_progress',
  'invalid_store_path',
  'payload_too_large',
  // agent-side deployment failures
  'fetch_failed',
  'profile_failed',
  'activation_failed',
  'agent_busy',
  'reboot_failed',
  'reboot_not_requested',
  'verification_failed',
  'untrusted_closure',
  'agent_disconnected',
  // activation plans (what a waiting deployment will change)
  'closure_diff_failed',
  'dry_activate_failed',
  'prefetch_disabled',
  'agent_unsupported',
  'deployment_started',
  'deployment_ended',
  // git pipeline
  'repository_not_linked',
  'repository_locked',
  'invalid_signature',
  'webhook_not_configured',
  'webhook_replayed',
  'git_failed',
  'ref_not_found',
  'preview_ref_not_allowed',
  'revision_not_found',
  'revision_ambiguous',
  'evaluation_failed',
  'build_not_found',
  'build_not_cancellable',
  'build_not_retryable',
  'release_not_found',
  'cache_unavailable',
  // web editor
  'file_not_found',
  'file_not_text',
  'file_too_large',
  'draft_not_found',
  'draft_stale',
  'draft_busy',
  'draft_empty',
  'draft_conflict',
  'draft_check_failed',
  // human in the loop
  'policy_locked',
  'approval_not_allowed',
  'nothing_to_approve',
  'rollout_halted',
  'rollout_not_halted',
  'graduation_required',
  'deployment_not_cancellable',
  // infrastructure
  'database_unavailable',
  'internal_error',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The body of every error answer: HTTP responses and protocol `error` messages alike. */
export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** An error that carries a stable code; transports map it to a status or an `error` message. */
export class FlotillaError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'FlotillaError';
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}
