import type { RepositoryService } from '../repository/repository.service.js';
import type { ApiHandlers } from './route.js';

type RepositoryRoutes = Pick<
  ApiHandlers,
  | 'getRepository'
  | 'linkRepository'
  | 'syncRepository'
  | 'listRevisions'
  | 'getRevision'
  | 'createPreview'
>;

/** The linked repository, its revisions and previews on request. */
export function repositoryRoutes(repository: RepositoryService): RepositoryRoutes {
  return {
    getRepository: () => repository.get(),
    linkRepository: ({ body, actor }) => repository.link(body, actor),
    syncRepository: () => repository.sync('api'),
    listRevisions: ({ query }) => repository.listRevisions(query),
    getRevision: ({ params }) => repository.getRevision(params.id),
    createPreview: ({ body, actor }) => repository.createPreview(body, actor),
  };
}
