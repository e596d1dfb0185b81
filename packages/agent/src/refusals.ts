import type { IncomingMessage } from 'node:http';
import { ErrorBody, PROTOCOL_VERSION, type ErrorCode } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';

/**
 * The controller's refusals that only an operator can fix, each with what to do. While
 * one persists, the connection retries at its slowest rate.
 */
const OPERATOR_FIXES: Partial<Record<ErrorCode, (error: ErrorBody, host: string) => string>> = {
  unauthorized: (error, host) =>
    `the controller refused this agent (${error.message}); enroll host "${host}" again: ` +
    `\`flotilla host enroll ${host}\`, then restart the agent with --enrollment-token-file`,
  agent_not_enrolled: (error, host) =>
    `the controller does not accept this agent's key (${error.message}); it was revoked or ` +
    `replaced: run \`flotilla host enroll ${host}\` and restart the agent with the new ` +
    'token in --enrollment-token-file',
  invalid_signature: (error) =>
    `the controller did not accept this agent's signature (${error.message}); check that ` +
    '--controller-url names the controller as it is reached (host and port), or set its ' +
    'publicUrl to that URL',
  protocol_version_mismatch: (error) =>
    `the controller does not speak this agent's protocol version ${PROTOCOL_VERSION} ` +
    `(${error.message}); upgrade the agent or the controller so both match`,
  host_mismatch: (error, host) =>
    `the controller says this agent's key does not belong to host "${host}" (${error.message}); ` +
    'set --host to the host the key was enrolled for, or enroll this host',
  host_not_found: (error, host) =>
    `the controller does not know host "${host}" (${error.message}); ` +
    'register the host on the controller or fix --host',
};

/** What to tell the operator about an `error` message, or null when it needs no action. */
export function explainControllerError(error: ErrorBody, host: string): string | null {
  return OPERATOR_FIXES[error.code]?.(error, host) ?? null;
}

/** Explains an HTTP answer other than 101 Switching Protocols to the WebSocket upgrade. */
export function explainRejectedUpgrade(
  status: number,
  body: ErrorBody | null,
  host: string,
): { message: string; operatorMustAct: boolean } {
  const explanation = body === null ? null : explainControllerError(body, host);
  if (explanation !== null) {
    return { message: `HTTP ${status}: ${explanation}`, operatorMustAct: true };
  }
  const said = body === null ? '' : ` (${body.code}: ${body.message})`;
  if (status === 401 || status === 403) {
    return {
      message:
        `the controller refused the connection with HTTP ${status}${said} before any ` +
        `challenge: it wants a bearer token, so it is older than this agent (protocol ` +
        `${PROTOCOL_VERSION}); upgrade the controller (host "${host}")`,
      operatorMustAct: true,
    };
  }
  if (status === 404) {
    return {
      message: `the controller answered HTTP 404${said}; check the path in --controller-url`,
      operatorMustAct: true,
    };
  }
  if (status === 426) {
    return {
      message:
        `the controller answered HTTP 426 Upgrade Required${said}: it does not accept ` +
        `protocol version ${PROTOCOL_VERSION}; upgrade the agent or the controller`,
      operatorMustAct: true,
    };
  }
  return {
    message: `the controller refused the WebSocket upgrade with HTTP ${status}${said}`,
    operatorMustAct: false,
  };
}

/** The most of a refusal's body that is read; enough for an error body. */
const MAX_BODY_CHARS = 4096;
const BODY_TIMEOUT_MS = 2000;

/**
 * Reads the body of a refused upgrade as the controller's error body, if it is one.
 * Gives up after a moment, so a server that never ends the response cannot stall redialling.
 */
export function readErrorBody(response: IncomingMessage, clock: Clock): Promise<ErrorBody | null> {
  return new Promise((resolve) => {
    let body = '';
    const finish = () => {
      cancel();
      let data: unknown;
      try {
        data = JSON.parse(body);
      } catch {
        data = undefined;
      }
      const parsed = ErrorBody.safeParse(data);
      resolve(parsed.success ? parsed.data : null);
    };
    const cancel = clock.setTimer(finish, BODY_TIMEOUT_MS);
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (body.length < MAX_BODY_CHARS) body += chunk;
    });
    response.once('end', finish);
    response.once('error', finish);
  });
}
