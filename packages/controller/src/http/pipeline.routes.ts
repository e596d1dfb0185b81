import {
  Build,
  BuildList,
  BuildListQuery,
  BuildLogPage,
  FlakeHostList,
  LogQuery,
  Preview,
  Release,
  ReleaseList,
  ReleaseListQuery,
} from '@flotilla/protocol';
import { z } from 'zod';
import type { BuildService } from '../pipeline/build.service.js';
import type { PreviewService } from '../pipeline/preview.service.js';
import type { ReleaseService } from '../pipeline/release.service.js';
import type { RouteTable } from './route.js';

export interface PipelineRouteServices {
  builds: BuildService;
  releases: ReleaseService;
  previews: PreviewService;
}

const IdParams = z.object({ id: z.string().min(1).max(64) });

/** Builds, releases, previews and the flake's host inventory. */
export function registerPipelineRoutes(routes: RouteTable, services: PipelineRouteServices): void {
  const { builds, releases, previews } = services;

  routes.add({
    method: 'GET',
    url: '/api/v1/builds',
    tag: 'builds',
    summary: 'List builds, newest first',
    query: BuildListQuery,
    response: BuildList,
    handler: ({ query }) => builds.list(query),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/builds/:id',
    tag: 'builds',
    summary: 'Get a build (a failed build carries its Nix error in errorSummary)',
    params: IdParams,
    response: Build,
    handler: ({ params }) => builds.get(params.id),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/builds/:id/log',
    tag: 'builds',
    summary: 'Read a build log after a sequence number',
    params: IdParams,
    query: LogQuery,
    response: BuildLogPage,
    handler: ({ params, query }) => builds.readLog(params.id, query),
  });
  routes.add({
    method: 'POST',
    url: '/api/v1/builds/:id/cancel',
    tag: 'builds',
    summary: 'Cancel a queued or running build',
    params: IdParams,
    response: Build,
    handler: ({ params, actor }) => builds.cancel(params.id, actor),
  });
  routes.add({
    method: 'POST',
    url: '/api/v1/builds/:id/retry',
    tag: 'builds',
    summary: 'Queue a failed or cancelled build again (a new attempt)',
    params: IdParams,
    response: Build,
    status: 201,
    handler: ({ params, actor }) => builds.retry(params.id, actor),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/releases',
    tag: 'releases',
    summary: 'List releases, newest first',
    query: ReleaseListQuery,
    response: ReleaseList,
    handler: ({ query }) => releases.list(query),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/releases/:id',
    tag: 'releases',
    summary: 'Get a release',
    params: IdParams,
    response: Release,
    handler: ({ params }) => releases.get(params.id),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/previews/:id',
    tag: 'previews',
    summary: 'Which hosts a previewed ref rebuilds, and by how much',
    params: IdParams,
    response: Preview,
    handler: ({ params }) => previews.get(params.id),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/flake/hosts',
    tag: 'repository',
    summary: "The flake's hosts joined with the registry (discovered and missing hosts)",
    response: FlakeHostList,
    handler: () => previews.flakeHosts(),
  });
}
