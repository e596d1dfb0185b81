import type { RevisionStatusService } from '../status/revision-status.service.js';
import type { ApiHandlers } from './route.js';

/** The pipeline status of one commit (what `flotilla wait` and the assistant's tools follow). */
export function revisionStatusRoutes(
  service: RevisionStatusService,
): Pick<ApiHandlers, 'getRevisionStatus'> {
  return { getRevisionStatus: ({ params }) => service.status(params.rev) };
}
