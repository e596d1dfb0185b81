import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnrollAgentRequest, EnrollAgentResponse } from '@flotilla/protocol';
import {
  isErrorCode,
  readJsonFile,
  systemClock,
  writeFileAtomic,
  type Clock,
  type Logger,
} from '@flotilla/runtime';
import * as z from 'zod';
import { Backoff, type BackoffOptions } from '../backoff.js';
import { AgentKey } from './agent-key.js';
import { EnrollmentRefused } from './enrollment-client.js';

/** The agent could not enroll and only an operator can change that; the message says how. */
export class NotEnrolled extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotEnrolled';
  }
}

/** What the agent keeps of its enrollment (no secret: the token only as its hash). */
const EnrollmentRecord = z.object({
  host: z.string(),
  keyFingerprint: z.string(),
  enrolledAt: z.string(),
  controllerUrl: z.string(),
  /** SHA-256 of the enrollment token used, so the same token is not presented again. */
  tokenSha256: z.string(),
});
type EnrollmentRecord = z.infer<typeof EnrollmentRecord>;

const PendingRecord = z.object({ tokenSha256: z.string() });

export interface EnrollmentOptions {
  stateDir: string;
  host: string;
  controllerUrl: string;
  /** The token itself (FLOTILLA_AGENT_ENROLLMENT_TOKEN), or null. */
  enrollmentToken: string | null;
  /** Where the token is read when not given itself; a missing file means "no token". */
  enrollmentTokenFile: string | null;
  /** Sends the enrollment to the controller. */
  enroll: (request: EnrollAgentRequest) => Promise<EnrollAgentResponse>;
  logger: Logger;
  /** Waits between attempts while the controller cannot be reached. */
  retry: BackoffOptions;
  clock?: Clock;
}

/** Where the identity lives under the state directory (mode 0700; key files 0600). */
export function identityPaths(stateDir: string) {
  const dir = join(stateDir, 'identity');
  return {
    dir,
    key: join(dir, 'agent-key.pem'),
    record: join(dir, 'enrollment.json'),
    pendingKey: join(dir, 'pending-key.pem'),
    pendingRecord: join(dir, 'pending.json'),
  };
}

/**
 * The agent's enrolled key, enrolling first when needed. Enrolled and no new token: the
 * key. Otherwise (first start, or a token the agent has not used yet, e.g. after `flotilla
 * host enroll` to replace a lost or revoked key) it makes a new key, sends its public half
 * with the token, and keeps the key once the controller accepted it. An unreachable
 * controller is retried with backoff; a refusal (unknown, used or expired token) throws
 * {@link NotEnrolled} with what to do.
 */
export async function ensureEnrolled(options: EnrollmentOptions): Promise<AgentKey> {
  const paths = identityPaths(options.stateDir);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const key = await readKey(paths.key);
  const record = EnrollmentRecord.safeParse(await readJsonFile(paths.record));
  const token = await readToken(options);
  const tokenSha256 = token === null ? null : sha256(token);
  if (key !== null && record.success) {
    if (record.data.keyFingerprint !== key.fingerprint) {
      throw new NotEnrolled(`${paths.record} names another key than ${paths.key}`);
    }
    if (tokenSha256 === null || tokenSha256 === record.data.tokenSha256) return key;
    options.logger.info('a new enrollment token is configured; enrolling again with a new key', {
      previousKey: key.fingerprint,
    });
  }
  if (token === null || tokenSha256 === null) {
    throw new NotEnrolled(
      `this agent is not enrolled as "${options.host}" and has no enrollment token: run ` +
        `\`flotilla host enroll ${options.host}\` (or \`flotilla host add ${options.host}\`) and ` +
        'give the token with --enrollment-token-file',
    );
  }
  const pending = await pendingKey(paths, tokenSha256);
  let enrolled: EnrollAgentResponse | null;
  try {
    enrolled = await enrollWithRetry(options, pending.key, token, pending.earlierAttempt);
  } catch (error) {
    // An agent that is enrolled keeps its key when a token it has not used before is
    // refused (an old one left in the file, say): the connection tells whether the key
    // still works, and says what to do if not.
    if (!(error instanceof NotEnrolled) || key === null || !record.success) throw error;
    options.logger.warn(`${error.message}; keeping the key this agent enrolled before`, {
      keyFingerprint: key.fingerprint,
    });
    await rm(paths.pendingKey, { force: true });
    await rm(paths.pendingRecord, { force: true });
    return key;
  }
  await writeFileAtomic(paths.key, pending.key.toPem(), 0o600);
  const saved: EnrollmentRecord = {
    host: options.host,
    keyFingerprint: pending.key.fingerprint,
    enrolledAt: enrolled?.enrolledAt ?? (options.clock ?? systemClock).now().toISOString(),
    controllerUrl: options.controllerUrl,
    tokenSha256,
  };
  await writeFileAtomic(paths.record, `${JSON.stringify(saved, null, 2)}\n`, 0o600);
  await rm(paths.pendingKey, { force: true });
  await rm(paths.pendingRecord, { force: true });
  options.logger.info('enrolled with the controller', {
    keyFingerprint: pending.key.fingerprint,
    replacedKey: enrolled?.replacedKeyFingerprint ?? null,
  });
  return pending.key;
}

/**
 * The key an enrollment with this token sends: the one an earlier attempt with the same
 * token made (its answer may have been lost), else a new one, written before it is sent.
 */
async function pendingKey(
  paths: ReturnType<typeof identityPaths>,
  tokenSha256: string,
): Promise<{ key: AgentKey; earlierAttempt: boolean }> {
  const earlier = PendingRecord.safeParse(await readJsonFile(paths.pendingRecord));
  const existing = await readKey(paths.pendingKey);
  if (existing !== null && earlier.success && earlier.data.tokenSha256 === tokenSha256) {
    return { key: existing, earlierAttempt: true };
  }
  const key = AgentKey.generate();
  await writeFileAtomic(paths.pendingKey, key.toPem(), 0o600);
  await writeFileAtomic(paths.pendingRecord, JSON.stringify({ tokenSha256 }), 0o600);
  return { key, earlierAttempt: false };
}

/**
 * Sends the enrollment until the controller answers. Null when the token turned out used
 * by this very key's earlier attempt (its answer was lost): the key is then enrolled, and
 * the connection proves it either way.
 */
async function enrollWithRetry(
  options: EnrollmentOptions,
  key: AgentKey,
  token: string,
  earlierAttempt: boolean,
): Promise<EnrollAgentResponse | null> {
  const clock = options.clock ?? systemClock;
  const backoff = new Backoff(options.retry);
  for (;;) {
    try {
      const answer = await options.enroll({
        token,
        host: options.host,
        publicKey: key.publicKey,
      });
      if (answer.keyFingerprint !== key.fingerprint || answer.host !== options.host) {
        throw new NotEnrolled(
          `the controller enrolled ${answer.keyFingerprint} for "${answer.host}", not this agent's ${key.fingerprint} for "${options.host}"`,
        );
      }
      return answer;
    } catch (error) {
      if (error instanceof NotEnrolled) throw error;
      if (error instanceof EnrollmentRefused) {
        if (error.code === 'enrollment_token_used' && earlierAttempt) {
          options.logger.warn(
            'the enrollment token was used, most likely by this agent before a restart; trying its key',
            { keyFingerprint: key.fingerprint },
          );
          return null;
        }
        throw new NotEnrolled(
          `the controller refused the enrollment as "${options.host}" (${error.code}: ${error.message})`,
        );
      }
      const delayMs = backoff.next();
      options.logger.warn('cannot reach the controller to enroll; retrying', {
        error: error instanceof Error ? error.message : String(error),
        delayMs,
      });
      await new Promise<void>((resolve) => clock.setTimer(resolve, delayMs));
    }
  }
}

async function readKey(path: string): Promise<AgentKey | null> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return null;
    throw error;
  }
  try {
    return AgentKey.fromPem(pem);
  } catch (error) {
    throw new NotEnrolled(
      `${path} is not a usable key (${error instanceof Error ? error.message : String(error)}); ` +
        'move it away and enroll again',
    );
  }
}

async function readToken(options: EnrollmentOptions): Promise<string | null> {
  if (options.enrollmentToken !== null) return options.enrollmentToken;
  if (options.enrollmentTokenFile === null) return null;
  let text: string;
  try {
    text = await readFile(options.enrollmentTokenFile, 'utf8');
  } catch (error) {
    // Deleting the token file after enrolling is good practice, not an error.
    if (isErrorCode(error, 'ENOENT')) return null;
    throw error;
  }
  const token = text.trim();
  return token === '' ? null : token;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
