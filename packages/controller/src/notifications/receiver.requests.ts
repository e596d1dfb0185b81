import { createHmac } from 'node:crypto';
import {
  FLOTILLA_VERSION,
  type NotificationKind,
  type NotificationPayload,
} from '@flotilla/protocol';
import type { NtfyReceiver, Receiver, WebhookReceiver } from './notifications.config.js';

/** One HTTP request to a receiver, built without touching the network. */
export interface ReceiverRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

interface KindStyle {
  title: string;
  /** ntfy turns known tag names into emoji. */
  tag: string;
  priority: 'low' | 'default' | 'high';
}

const STYLES: Record<NotificationKind, KindStyle> = {
  'approval.pending': { title: 'Approval pending', tag: 'hourglass', priority: 'default' },
  'deployment.failed': { title: 'Deployment failed', tag: 'x', priority: 'high' },
  'deployment.rolled_back': { title: 'Deployment rolled back', tag: 'rewind', priority: 'high' },
  'host.demoted': { title: 'Host demoted to manual', tag: 'arrow_down', priority: 'high' },
  'host.offline': { title: 'Host offline', tag: 'electric_plug', priority: 'default' },
  'graduation.eligible': {
    title: 'Host may graduate to auto',
    tag: 'mortar_board',
    priority: 'low',
  },
  'rollout.halted': { title: 'Rollout halted', tag: 'octagonal_sign', priority: 'high' },
};

const USER_AGENT = `flotilla/${FLOTILLA_VERSION}`;

/** The request for one delivery of `payload` to `receiver`. */
export function buildReceiverRequest(
  receiver: Receiver,
  payload: NotificationPayload,
  deliveryId: string,
): ReceiverRequest {
  switch (receiver.type) {
    case 'webhook':
      return buildWebhookRequest(receiver, payload, deliveryId);
    case 'ntfy':
      return buildNtfyRequest(receiver, payload);
  }
}

/**
 * JSON body, signed like GitHub's webhooks: `sha256=` and the hex HMAC-SHA256 of the exact
 * body bytes, so a receiver verifies before parsing.
 */
export function buildWebhookRequest(
  receiver: WebhookReceiver,
  payload: NotificationPayload,
  deliveryId: string,
): ReceiverRequest {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-flotilla-event': payload.kind,
    'x-flotilla-delivery': deliveryId,
  };
  if (receiver.secret !== null) {
    headers['x-flotilla-signature-256'] = signatureHeader(receiver.secret, body);
  }
  return { url: receiver.url, headers, body };
}

/** `sha256=<hex HMAC-SHA256 of body>`. */
export function signatureHeader(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** ntfy's publish-by-POST: the message as plain text, the rest in headers. */
export function buildNtfyRequest(
  receiver: NtfyReceiver,
  payload: NotificationPayload,
): ReceiverRequest {
  const style = STYLES[payload.kind];
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'user-agent': USER_AGENT,
    title: headerSafe(payload.host === null ? style.title : `${style.title}: ${payload.host}`),
    tags: `${style.tag},${payload.kind}`,
    priority: style.priority,
  };
  if (receiver.token !== null) headers.authorization = `Bearer ${receiver.token}`;
  return { url: receiver.url, headers, body: payload.summary };
}

// fetch refuses header values outside Latin-1 and any line break.
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}
