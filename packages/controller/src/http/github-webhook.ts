import { api, FlotillaError, type WebhookAnswer } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { RepositoryService } from '../repository/repository.service.js';
import type { WebhookDeliveryRepository } from '../storage/hardening.repositories.js';
import { verifyGithubSignature } from './github-signature.js';
import { routeConfig, type ApiRoutes } from './route.js';

export interface GithubWebhookOptions {
  /** The shared secret; without it the endpoint answers `webhook_not_configured`. */
  secret: string | undefined;
  repository: Pick<
    RepositoryService,
    'requestSync' | 'requireLinked' | 'requestPullRequestPreview'
  >;
  /** Deliveries acted on, so a replayed one is refused. */
  deliveries: Pick<WebhookDeliveryRepository, 'record' | 'forget' | 'prune'>;
  clock: Clock;
}

/** GitHub's payloads are small; anything larger is refused before it is read in full. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/**
 * Delivery ids are remembered this long. GitHub redelivers on request for a few days; an
 * older replay (with its valid signature) can only start a sync, which asks the remote what
 * changed, or preview a pull request head that is no longer its head (see below).
 */
const DELIVERY_RETENTION_MS = 14 * 86_400_000;

/** Deliveries that can bring new commits: pushes, and pull requests for auto previews. */
const SYNC_EVENTS = new Set(['push', 'pull_request']);

/** `X-GitHub-Delivery`: a GUID. */
const DeliveryId = z.string().regex(/^[A-Za-z0-9-]{1,100}$/);

/** The part of a `pull_request` delivery that decides about an automatic preview. */
const PullRequestEvent = z.object({
  action: z.string(),
  number: z.number().int().positive(),
  pull_request: z.object({
    head: z.object({
      sha: z.string().regex(/^[0-9a-f]{40}$/),
      // null when the fork was deleted
      repo: z.object({ full_name: z.string() }).nullable(),
    }),
    base: z.object({ repo: z.object({ full_name: z.string() }) }),
  }),
});
const PREVIEWED_ACTIONS = new Set(['opened', 'reopened', 'synchronize']);

/**
 * `POST /api/v1/webhooks/github`: public (GitHub has no admin token), authenticated by the
 * delivery's HMAC signature instead. It lives in its own plugin scope so that its body
 * parser can keep the raw bytes the signature covers; nothing is recorded, fetched or
 * parsed before the signature checks out. Each delivery is acted on once (its
 * `X-GitHub-Delivery` id is remembered; a replay answers `webhook_replayed`). A push only
 * triggers a sync, which asks the remote what changed; a pull request's payload is read
 * for one thing: whether its head comes from the repository itself (automatic previews).
 */
export function registerGithubWebhook(
  app: FastifyInstance,
  routes: ApiRoutes,
  options: GithubWebhookOptions,
): void {
  routes.claim('githubWebhook');
  let lastPrune = 0;
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    scope.post(
      api.githubWebhook.path,
      { config: routeConfig('githubWebhook'), bodyLimit: WEBHOOK_BODY_LIMIT },
      async (request, reply) => {
        const { secret, deliveries, clock } = options;
        if (secret === undefined) {
          throw new FlotillaError(
            'webhook_not_configured',
            'no webhook secret is configured (repository.webhookSecretFile)',
          );
        }
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        if (!verifyGithubSignature(secret, body, request.headers['x-hub-signature-256'])) {
          throw new FlotillaError('invalid_signature', 'missing or invalid X-Hub-Signature-256');
        }
        const delivery = DeliveryId.safeParse(request.headers['x-github-delivery']);
        if (!delivery.success) {
          throw new FlotillaError('validation_failed', 'missing or invalid X-GitHub-Delivery');
        }
        const header = request.headers['x-github-event'];
        const event = typeof header === 'string' ? header : '';
        const now = clock.now();
        if (!(await deliveries.record(delivery.data, event.slice(0, 100), now.toISOString()))) {
          throw new FlotillaError(
            'webhook_replayed',
            `delivery ${delivery.data} was received before; it is not acted on again`,
          );
        }
        if (now.getTime() - lastPrune > 3_600_000) {
          lastPrune = now.getTime();
          await deliveries.prune(new Date(now.getTime() - DELIVERY_RETENTION_MS).toISOString());
        }
        try {
          const answer = await handle(event, body, request, options);
          return reply.status(event === 'ping' ? 200 : 202).send(answer);
        } catch (error) {
          // Not acted on: GitHub's redelivery of it must be taken.
          await deliveries.forget(delivery.data);
          throw error;
        }
      },
    );
  });
}

async function handle(
  event: string,
  body: Buffer,
  request: FastifyRequest,
  options: GithubWebhookOptions,
): Promise<WebhookAnswer> {
  const { repository } = options;
  if (event === 'ping') return { accepted: true, event };
  if (!SYNC_EVENTS.has(event)) return { accepted: false, event };
  await repository.requireLinked();
  if (event === 'push') {
    repository.requestSync('webhook');
    return { accepted: true, event };
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new FlotillaError('validation_failed', 'the pull_request delivery is not JSON');
  }
  const parsed = PullRequestEvent.safeParse(json);
  if (!parsed.success) {
    throw new FlotillaError(
      'validation_failed',
      'the pull_request delivery lacks its head or base',
    );
  }
  const { action, number, pull_request: pr } = parsed.data;
  if (!PREVIEWED_ACTIONS.has(action)) return { accepted: false, event };
  const fromRepositoryItself =
    pr.head.repo !== null &&
    pr.head.repo.full_name.toLowerCase() === pr.base.repo.full_name.toLowerCase();
  request.log.info(
    { number, sha: pr.head.sha, head: pr.head.repo?.full_name ?? null, fromRepositoryItself },
    'pull request delivery',
  );
  repository.requestPullRequestPreview({ number, headSha: pr.head.sha, fromRepositoryItself });
  return { accepted: true, event };
}
