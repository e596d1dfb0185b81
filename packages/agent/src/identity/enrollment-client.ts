import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  EnrollAgentResponse,
  ErrorBody,
  type EnrollAgentRequest,
  type ErrorCode,
} from '@flotilla/protocol';
import type { TlsOptions } from './controller-tls.js';

/** The controller answered the enrollment with an error body: only an operator can fix it. */
export class EnrollmentRefused extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'EnrollmentRefused';
  }
}

/** The largest answer read; an enrollment answer is a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The enrollment endpoint next to the agent gateway: `wss://fleet/api/v1/agent/ws` →
 * `https://fleet/api/v1/agent/enroll` (a path prefix in front of it is kept).
 */
export function enrollmentUrl(controllerUrl: string): string {
  const url = new URL('enroll', controllerUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.toString();
}

/**
 * POSTs an enrollment to the controller, checking its certificate as the agent gateway
 * connection does. Resolves with the answer; rejects with {@link EnrollmentRefused} when
 * the controller refused (an error body), or another error when it could not be reached
 * or answered nonsense (worth retrying).
 */
export function postEnrollment(
  url: string,
  body: EnrollAgentRequest,
  tls: TlsOptions,
  timeoutMs = 15_000,
): Promise<EnrollAgentResponse> {
  const payload = JSON.stringify(body);
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
        timeout: timeoutMs,
        ...(target.protocol === 'https:' ? tls : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          let data: unknown;
          try {
            data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            data = undefined;
          }
          if (status === 201) {
            const parsed = EnrollAgentResponse.safeParse(data);
            if (parsed.success) resolve(parsed.data);
            else
              reject(new Error(`the controller's enrollment answer is not one (HTTP ${status})`));
            return;
          }
          const error = ErrorBody.safeParse((data as { error?: unknown } | undefined)?.error);
          if (error.success && status >= 400 && status < 500) {
            reject(new EnrollmentRefused(error.data.code, error.data.message, status));
          } else {
            reject(new Error(`the controller answered the enrollment with HTTP ${status}`));
          }
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(payload);
  });
}
