import {
  CreatePreviewRequest,
  CreatePreviewResponse,
  LinkRepositoryRequest,
  Repository,
  Revision,
  RevisionList,
  RevisionListQuery,
  SyncResult,
} from '@flotilla/protocol';
import { z } from 'zod';
import type { RepositoryService } from '../repository/repository.service.js';
import type { RouteTable } from './route.js';

const IdParams = z.object({ id: z.string().min(1).max(64) });

/** The linked repository, its revisions and previews on request. */
export function registerRepositoryRoutes(routes: RouteTable, repository: RepositoryService): void {
  routes.add({
    method: 'GET',
    url: '/api/v1/repository',
    tag: 'repository',
    summary: 'Show the linked repository and its sync state (credentials removed)',
    response: Repository,
    handler: () => repository.get(),
  });
  routes.add({
    method: 'PUT',
    url: '/api/v1/repository',
    tag: 'repository',
    summary: 'Link the flake repository (refused when the config file links it)',
    body: LinkRepositoryRequest,
    response: Repository,
    handler: ({ body, actor }) => repository.link(body, actor),
  });
  routes.add({
    method: 'POST',
    url: '/api/v1/repository/sync',
    tag: 'repository',
    summary: 'Fetch now and record what is new',
    response: SyncResult,
    handler: () => repository.sync('api'),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/revisions',
    tag: 'repository',
    summary: 'List recorded revisions, newest first',
    query: RevisionListQuery,
    response: RevisionList,
    handler: ({ query }) => repository.listRevisions(query),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/revisions/:id',
    tag: 'repository',
    summary: 'Get one revision',
    params: IdParams,
    response: Revision,
    handler: ({ params }) => repository.getRevision(params.id),
  });
  routes.add({
    method: 'POST',
    url: '/api/v1/previews',
    tag: 'repository',
    summary: 'Record a preview revision for a ref such as refs/pull/12/head',
    body: CreatePreviewRequest,
    response: CreatePreviewResponse,
    handler: ({ body, actor }) => repository.createPreview(body, actor),
  });
}
