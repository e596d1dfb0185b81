import { api, FlotillaError, type WebhookAnswer } from '@flotilla/protocol';
import type { FastifyInstance } from 'fastify';
import type { RepositoryService } from '../repository/repository.service.js';
import { verifyGithubSignature } from './github-signature.js';
import { routeConfig, type ApiRoutes } from './route.js';

export interface GithubWebhookOptions {
  /** The shared secret; without it the endpoint answers `webhook_not_configured`. */
  secret: string | undefined;
  repository: Pick<RepositoryService, 'requestSync' | 'requireLinked'>;
}

/** GitHub's payloads are small; anything larger is refused before it is read in full. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/** Deliveries that can bring new commits: pushes, and pull requests for auto previews. */
const SYNC_EVENTS = new Set(['push', 'pull_request']);

/**
 * `POST /api/v1/webhooks/github`: public (GitHub has no admin token), authenticated by the
 * delivery's HMAC signature instead. It lives in its own plugin scope so that its body
 * parser can keep the raw bytes the signature covers; nothing is recorded, fetched or
 * parsed before the signature checks out. The payload itself is not trusted or needed: a
 * valid push only triggers a sync, which asks the remote what changed.
 */
export function registerGithubWebhook(
  app: FastifyInstance,
  routes: ApiRoutes,
  options: GithubWebhookOptions,
): void {
  routes.claim('githubWebhook');
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
        const { secret, repository } = options;
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
        const header = request.headers['x-github-event'];
        const event = typeof header === 'string' ? header : '';
        if (event === 'ping') {
          const answer: WebhookAnswer = { accepted: true, event };
          return reply.status(200).send(answer);
        }
        if (!SYNC_EVENTS.has(event)) {
          const answer: WebhookAnswer = { accepted: false, event };
          return reply.status(202).send(answer);
        }
        await repository.requireLinked();
        repository.requestSync('webhook');
        const answer: WebhookAnswer = { accepted: true, event };
        return reply.status(202).send(answer);
      },
    );
  });
}
