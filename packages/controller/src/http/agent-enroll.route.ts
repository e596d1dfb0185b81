import { api, EnrollAgentRequest, FlotillaError } from '@flotilla/protocol';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { HostIdentityService } from '../hosts/host-identity.service.js';
import { routeConfig, type ApiRoutes } from './route.js';

/**
 * `POST /api/v1/agent/enroll`: an agent proves a one-time enrollment token and registers
 * its public key. Public (the token is the proof); every refusal is logged with the
 * client's address, since it may be someone guessing or replaying tokens.
 */
export function registerAgentEnrollment(
  app: FastifyInstance,
  routes: ApiRoutes,
  identity: Pick<HostIdentityService, 'enroll'>,
): void {
  routes.claim('enrollAgent');
  app.post(api.enrollAgent.path, { config: routeConfig('enrollAgent') }, async (request, reply) => {
    const parsed = EnrollAgentRequest.safeParse(request.body ?? {});
    if (!parsed.success) {
      request.log.warn({ remote: request.ip }, 'agent enrollment refused: invalid body');
      throw new FlotillaError(
        'validation_failed',
        `invalid body: ${z.prettifyError(parsed.error)}`,
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const { host } = parsed.data;
    try {
      const enrolled = await identity.enroll(parsed.data);
      request.log.info(
        { host, keyFingerprint: enrolled.keyFingerprint, remote: request.ip },
        'agent enrolled',
      );
      return reply.status(api.enrollAgent.response.status).send(enrolled);
    } catch (error) {
      if (error instanceof FlotillaError) {
        request.log.warn(
          { host, code: error.code, remote: request.ip },
          `agent enrollment refused: ${error.message}`,
        );
      }
      throw error;
    }
  });
}
