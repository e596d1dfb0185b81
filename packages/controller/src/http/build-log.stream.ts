import { api, FlotillaError } from '@flotilla/protocol';
import type { FastifyInstance } from 'fastify';
import type { BuildService } from '../pipeline/build.service.js';
import { routeConfig, type ApiRoutes } from './route.js';

const Params = api.streamBuildLog.params;
const Query = api.streamBuildLog.query;

interface Line {
  seq: number;
  at: string;
  line: string;
}

/**
 * `GET /api/v1/builds/:id/log/stream`: the build log as server-sent events. Stored lines
 * after `after` (or `Last-Event-ID`) come first, then live lines as Nix prints them, then
 * an `end` event with the final status. Each line's event id is its sequence number, so a
 * reconnecting client resumes exactly where it stopped.
 */
export function registerBuildLogStream(
  app: FastifyInstance,
  routes: ApiRoutes,
  builds: BuildService,
): void {
  routes.claim('streamBuildLog');
  app.get(
    api.streamBuildLog.path,
    { config: routeConfig('streamBuildLog') },
    async (request, reply) => {
      const params = Params.safeParse(request.params);
      const query = Query.safeParse(request.query);
      if (!params.success || !query.success) {
        throw new FlotillaError('validation_failed', 'invalid build id or `after`');
      }
      const id = params.data.id;
      await builds.require(id);
      const lastEventId = Number(request.headers['last-event-id']);
      let last = query.data.after ?? (Number.isInteger(lastEventId) ? lastEventId : 0);

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      });
      const send = (line: Line) => {
        if (line.seq <= last) return;
        last = line.seq;
        raw.write(`id: ${line.seq}\nevent: line\ndata: ${JSON.stringify(line)}\n\n`);
      };
      const drainStored = async () => {
        for (;;) {
          const page = await builds.readLog(id, { after: last, limit: 1000 });
          page.lines.forEach(send);
          if (page.lines.length < 1000) return page;
        }
      };

      let live = false;
      const early: Line[] = [];
      const unsubscribe = builds.subscribe(id, (line) => (live ? send(line) : early.push(line)));
      let closed = false;
      const timers: NodeJS.Timeout[] = [];
      const close = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        timers.forEach(clearInterval);
        raw.end();
      };
      request.raw.on('close', close);

      const finishIfDone = async () => {
        const build = await builds.require(id);
        if (!builds.isFinal(build) || closed) return;
        await drainStored();
        raw.write(
          `event: end\ndata: ${JSON.stringify({ status: build.status, errorSummary: build.error_summary })}\n\n`,
        );
        close();
      };
      try {
        await drainStored();
        live = true;
        early.forEach(send);
        await finishIfDone();
      } catch (error) {
        request.log.error({ err: error, buildId: id }, 'build log stream failed');
        close();
        return;
      }
      timers.push(
        setInterval(() => void finishIfDone().catch(close), 1000),
        // A comment line now and then keeps proxies from closing an idle stream.
        setInterval(() => raw.write(': keep-alive\n\n'), 15_000),
      );
    },
  );
}
