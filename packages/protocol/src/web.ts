import * as z from 'zod';

/**
 * The web UI's top-level pages: the controller answers `/<page>` and `/<page>/…` with the
 * app's index.html (the app routes inside it), and nothing else outside `/api`, `/cache`
 * and `/healthz`; the app links only to these.
 */
export const WebPage = z.enum([
  'login',
  'hosts',
  'approvals',
  'deployments',
  'builds',
  'rollouts',
  'editor',
  'audit',
  'settings',
]);
export type WebPage = z.infer<typeof WebPage>;

/** Bundle files: hashed names Vite gives them (`index-3f9a1c.js`), nothing else. */
export const WebAssetName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/, 'must be a file name of the built app');
