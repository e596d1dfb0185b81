import { useInfiniteQuery } from '@tanstack/react-query';
import { useApi } from '../../api/api-context.js';
import { queryKeys } from '../../api/query-keys.js';
import type { AuditApiFilter } from './audit-filter.js';

const PAGE = 200;

/** The audit log, newest first, filtered by the controller, a page at a time. */
export function useAudit(filter: AuditApiFilter) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: [...queryKeys.audit, filter],
    queryFn: ({ pageParam }) =>
      api.call('listAudit', { query: { ...filter, limit: PAGE, before: pageParam } }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
}
