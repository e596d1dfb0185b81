import { NotificationKind } from '@flotilla/protocol';
import * as z from 'zod';

// A URL with userinfo ends up in logs and process lists; receivers take secrets from files.
const ReceiverUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .refine((url) => {
    const parsed = new URL(url);
    return parsed.username === '' && parsed.password === '';
  }, 'must not contain credentials: put them in a file (secretFile, tokenFile)');

/** Kinds a receiver gets; omitted: all of them. */
const Events = z.array(NotificationKind).min(1, 'omit events for all kinds').optional();

export const WebhookReceiverConfig = z
  .object({
    url: ReceiverUrl,
    /** File holding the HMAC key for `X-Flotilla-Signature-256`; without it, bodies are unsigned. */
    secretFile: z.string().min(1).optional(),
    events: Events,
  })
  .strict();
export type WebhookReceiverConfig = z.infer<typeof WebhookReceiverConfig>;

export const NtfyReceiverConfig = z
  .object({
    /** The ntfy server's base URL, e.g. https://ntfy.sh. */
    server: ReceiverUrl,
    // ntfy's own rule for topic names.
    topic: z.string().regex(/^[-_A-Za-z0-9]{1,64}$/, 'must be 1–64 of A–Z a–z 0–9 _ -'),
    /** File holding an access token, sent as `Authorization: Bearer`. */
    tokenFile: z.string().min(1).optional(),
    events: Events,
  })
  .strict();
export type NtfyReceiverConfig = z.infer<typeof NtfyReceiverConfig>;

/** The `notifications` section of the controller config. */
export const NotificationsConfig = z
  .object({
    webhooks: z.array(WebhookReceiverConfig).max(32).default([]),
    ntfy: z.array(NtfyReceiverConfig).max(32).default([]),
    /** A host offline for longer than this raises `host.offline`. */
    offlineAfterMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 1440)
      .default(10),
  })
  .strict();
export type NotificationsConfig = z.infer<typeof NotificationsConfig>;

interface ReceiverBase {
  /** Stable name used in the database and the API: `webhook:0`, `ntfy:1` (config order). */
  name: string;
  /** Kinds this receiver gets; null: all. */
  events: readonly NotificationKind[] | null;
}

export interface WebhookReceiver extends ReceiverBase {
  type: 'webhook';
  url: string;
  secret: string | null;
}

export interface NtfyReceiver extends ReceiverBase {
  type: 'ntfy';
  /** `<server>/<topic>`. */
  url: string;
  token: string | null;
}

/** A receiver with its secrets read, ready to send to. */
export type Receiver = WebhookReceiver | NtfyReceiver;

/** True when `receiver` subscribed to `kind`. */
export function receiverWants(receiver: ReceiverBase, kind: NotificationKind): boolean {
  return receiver.events === null || receiver.events.includes(kind);
}

/**
 * Reads every receiver's secret file (once, at start) and returns the receivers with
 * every problem found, so that the caller can report them together with the rest of the
 * config. `readFile` is e.g. `(path) => readFileSync(path, 'utf8')`.
 */
export function loadNotificationSecrets(
  config: NotificationsConfig,
  readFile: (path: string) => string,
): { receivers: Receiver[]; problems: string[] } {
  const problems: string[] = [];
  const read = (what: string, path: string | undefined): string | null => {
    if (path === undefined) return null;
    try {
      const value = readFile(path).trim();
      if (value === '') problems.push(`${what}: ${path} is empty`);
      return value;
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
      return null;
    }
  };
  const receivers: Receiver[] = [];
  config.webhooks.forEach((webhook, index) => {
    receivers.push({
      type: 'webhook',
      name: `webhook:${index}`,
      url: webhook.url,
      secret: read(`notifications.webhooks.${index}.secretFile`, webhook.secretFile),
      events: webhook.events ?? null,
    });
  });
  config.ntfy.forEach((ntfy, index) => {
    receivers.push({
      type: 'ntfy',
      name: `ntfy:${index}`,
      url: `${ntfy.server.replace(/\/+$/, '')}/${ntfy.topic}`,
      token: read(`notifications.ntfy.${index}.tokenFile`, ntfy.tokenFile),
      events: ntfy.events ?? null,
    });
  });
  return { receivers, problems };
}
