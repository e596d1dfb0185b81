import { api, FlotillaError } from '@flotilla/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CACHE_AUTH_CHALLENGE } from '../cache/cache-auth.js';
import { isNarFileName, parseCacheFileName } from '../cache/cache-names.js';
import type { BinaryCacheService } from '../cache/cache.service.js';
import { sendFile } from '../cache/file-sender.js';
import { routeConfig, type ApiRoutes } from './route.js';

/** Served as is: the store layout, and a priority that ranks this cache before cache.nixos.org (40 < 50). */
const NIX_CACHE_INFO = 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n';

/**
 * Bytes per read and socket write while streaming a NAR. Every chunk costs a thread-pool
 * round trip and a wake-up of the event loop; 512 KiB chunks make that negligible while a
 * download holds only two of them (see `npm run bench:cache`, docs/BENCHMARKS.md).
 */
const NAR_CHUNK_BYTES = 512 * 1024;

/**
 * The binary cache protocol under `/cache`, outside `/api/` so the admin token check
 * does not apply: hosts authenticate with a short-lived cache credential their agent got
 * over its connection (HTTP Basic password, as sent from a netrc file, or Bearer).
 */
export function registerCacheRoutes(
  app: FastifyInstance,
  routes: ApiRoutes,
  cache: BinaryCacheService,
): void {
  routes.claim('cacheInfoFile');
  routes.claim('cacheNarinfo');
  routes.claim('cacheNar');
  const authenticate = (request: FastifyRequest, reply: FastifyReply): string => {
    try {
      return cache.authenticate(request.headers.authorization);
    } catch (error) {
      if (error instanceof FlotillaError && error.code === 'unauthorized') {
        reply.header('www-authenticate', CACHE_AUTH_CHALLENGE);
      }
      throw error;
    }
  };

  app.get(
    api.cacheInfoFile.path,
    { config: routeConfig('cacheInfoFile') },
    async (request, reply) => {
      authenticate(request, reply);
      return reply.type('text/x-nix-cache-info').send(NIX_CACHE_INFO);
    },
  );

  app.get<{ Params: { name: string } }>(
    api.cacheNarinfo.path,
    { config: routeConfig('cacheNarinfo') },
    async (request, reply) => {
      const host = authenticate(request, reply);
      const name = parseCacheFileName(request.params.name);
      switch (name.kind) {
        case 'invalid':
          throw new FlotillaError('validation_failed', name.reason);
        case 'unknown':
          throw new FlotillaError('not_found', 'no such file in the binary cache');
        case 'narinfo': {
          const narinfo = await cache.narinfo(host, name.storeHash);
          return reply.header('cache-control', 'private').type('text/x-nix-narinfo').send(narinfo);
        }
      }
    },
  );

  app.get<{ Params: { file: string } }>(
    api.cacheNar.path,
    { config: routeConfig('cacheNar') },
    async (request, reply) => {
      const host = authenticate(request, reply);
      if (!isNarFileName(request.params.file)) {
        throw new FlotillaError('not_found', 'no such file in the binary cache');
      }
      const nar = await cache.openNar(host, request.params.file);
      const headers = {
        'content-type': 'application/x-nix-nar',
        'content-length': nar.size,
        'cache-control': 'private',
      };
      // The body is written straight to the socket (see sendFile for why), so Fastify steps
      // aside for this reply. Also for HEAD, where Fastify would set Content-Length to 0.
      reply.hijack();
      reply.raw.writeHead(200, headers);
      if (request.method === 'HEAD') {
        reply.raw.end();
        await nar.handle.close();
        return;
      }
      await sendFile(nar.handle, nar.size, reply.raw, { chunkBytes: NAR_CHUNK_BYTES });
    },
  );
}
