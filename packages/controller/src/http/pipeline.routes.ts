import type { BuildService } from '../pipeline/build.service.js';
import type { PreviewService } from '../pipeline/preview.service.js';
import type { ReleaseService } from '../pipeline/release.service.js';
import type { ApiHandlers } from './route.js';

export interface PipelineRouteServices {
  builds: BuildService;
  releases: ReleaseService;
  previews: PreviewService;
}

type PipelineRoutes = Pick<
  ApiHandlers,
  | 'listBuilds'
  | 'getBuild'
  | 'getBuildLog'
  | 'cancelBuild'
  | 'retryBuild'
  | 'listReleases'
  | 'getRelease'
  | 'getPreview'
  | 'flakeHosts'
>;

/** Builds, releases, previews and the flake's host inventory. */
export function pipelineRoutes(s: PipelineRouteServices): PipelineRoutes {
  return {
    listBuilds: ({ query }) => s.builds.list(query),
    getBuild: ({ params }) => s.builds.get(params.id),
    getBuildLog: ({ params, query }) => s.builds.readLog(params.id, query),
    cancelBuild: ({ params, actor }) => s.builds.cancel(params.id, actor),
    retryBuild: ({ params, actor }) => s.builds.retry(params.id, actor),
    listReleases: ({ query }) => s.releases.list(query),
    getRelease: ({ params }) => s.releases.get(params.id),
    getPreview: ({ params }) => s.previews.get(params.id),
    flakeHosts: () => s.previews.flakeHosts(),
  };
}
