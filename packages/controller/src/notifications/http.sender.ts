import { redact } from '../git/redact.js';
import type { ReceiverRequest } from './receiver.requests.js';

/**
 * How one attempt went. `error` is safe to store and show: it never holds a secret.
 * `permanent` failures are not retried.
 */
export type SendOutcome = { ok: true } | { ok: false; error: string; permanent?: boolean };

/** Sends one request; resolves (never rejects) with the outcome. */
export type RequestSender = (
  request: ReceiverRequest,
  options: { timeoutMs: number; secrets: readonly string[] },
) => Promise<SendOutcome>;

const BODY_EXCERPT_CHARS = 200;

/**
 * POSTs with `fetch`, aborting after `timeoutMs` (connect, headers and body together).
 * Redirects are not followed: a signed body or a token must not travel to another host.
 * Error texts name the status or the network error code, never the URL (webhook URLs often
 * carry a token in their path) and never a secret, even when a receiver echoes one back.
 */
export const sendHttpRequest: RequestSender = async (request, { timeoutMs, secrets }) => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: controller.signal,
    });
    if (response.status >= 200 && response.status < 300) {
      await response.body?.cancel();
      return { ok: true };
    }
    const excerpt = (await response.text()).slice(0, BODY_EXCERPT_CHARS);
    const detail = sanitize(excerpt, [...secrets, ...urlSecrets(request.url)]);
    return { ok: false, error: `HTTP ${response.status}${detail === '' ? '' : `: ${detail}`}` };
  } catch (error) {
    if (controller.signal.aborted) return { ok: false, error: `timed out after ${timeoutMs} ms` };
    return { ok: false, error: `network error: ${networkErrorCode(error)}` };
  } finally {
    clearTimeout(timer);
  }
};

/** The URL and its path and query, which may be capability tokens themselves. */
function urlSecrets(url: string): string[] {
  const parsed = new URL(url);
  const parts = [url, parsed.pathname + parsed.search];
  return parts.filter((part) => part.length > 1);
}

function sanitize(text: string, secrets: readonly string[]): string {
  // One line, printable: it is shown in tables and logs.
  return redact(text, secrets)
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .trim();
}

// fetch wraps the system error (ECONNREFUSED, ENOTFOUND, …) in `cause`; its message names
// the address, so only the code is kept.
function networkErrorCode(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  if (cause instanceof Error) return cause.name;
  return error instanceof Error ? error.name : 'unknown';
}
