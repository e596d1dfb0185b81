import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { api, FlotillaError, WebAssetName, WebPage } from '@flotilla/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { routeConfig, type ApiRoutes } from './route.js';

/** The content types of what Vite's build writes; any other file is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** Hashed names change with their content, so a browser may keep them as long as it likes. */
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** Answered at `/` when the app was not built: what to do, with no script and no style. */
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flotilla: web UI not built</title></head>
<body><h1>The web UI is not built</h1>
<p>This controller serves its API under <code>/api/v1</code>, but the web UI's files are missing.
Build them in the Flotilla checkout with <code>npm run build</code> (or <code>npm test</code>,
which builds first), then reload this page.</p>
<p>The API works without it: see <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>
or use the <code>flotilla</code> command line.</p></body></html>
`;

/**
 * The single-page web UI, built by Vite into `dir` (`index.html` and `assets/`): `/` and
 * each app page (`/hosts/…`, `/approvals`, … as listed by `WebPage`) answer index.html,
 * never cached so a new build shows at the next load; `/assets/<file>` answers the hashed
 * bundle files, cached for a year. Everything is public: the app itself holds no data, and
 * its API calls are checked like every client's. Paths outside these stay unmatched (404).
 */
export function registerWebApp(app: FastifyInstance, routes: ApiRoutes, dir: string): void {
  routes.claim('webApp');
  routes.claim('webPage');
  routes.claim('webAsset');
  const sendIndex = async (reply: FastifyReply) => {
    const html = await readFile(join(dir, 'index.html'), 'utf8').catch(() => null);
    if (html === null)
      return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    return reply.type('text/html; charset=utf-8').send(html);
  };
  app.get(api.webApp.path, { config: routeConfig('webApp') }, async (_request, reply) =>
    sendIndex(reply),
  );
  // Each page is its own static prefix, so `/api/…` and `/cache/…` never reach the app.
  for (const page of WebPage.options) {
    const config = routeConfig('webPage');
    app.get(`/${page}`, { config }, async (_request, reply) => sendIndex(reply));
    app.get(`/${page}/*`, { config }, async (_request, reply) => sendIndex(reply));
  }
  app.get<{ Params: { file: string } }>(
    api.webAsset.path,
    { config: routeConfig('webAsset') },
    async (request, reply) => {
      const name = WebAssetName.safeParse(request.params.file);
      const type = CONTENT_TYPES[extname(request.params.file)];
      if (!name.success || type === undefined) throw notFound();
      const file = join(dir, 'assets', name.data);
      const found = await stat(file).catch(() => null);
      if (!found?.isFile()) throw notFound();
      const body = await readFile(file);
      return reply.header('cache-control', ASSET_CACHE_CONTROL).type(type).send(body);
    },
  );
}

function notFound(): FlotillaError {
  return new FlotillaError('not_found', 'no such file in the web UI');
}
