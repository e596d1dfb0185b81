import type { Api, ContractInput } from '@flotilla/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApi } from '../../api/api-context.js';
import { queryKeys } from '../../api/query-keys.js';
import { usePollInterval } from '../../live/live-context.js';

/** Deployments waiting for a human (and approved ones still held by their wave or window). */
export function useApprovals() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.approvals,
    queryFn: () => api.call('listApprovals'),
    refetchInterval: usePollInterval(),
  });
}

/** The configured waves, for their order. */
export function useWaves() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.waves,
    queryFn: () => api.call('listWaves'),
    staleTime: 60_000,
  });
}

/** A revision's commit: author and full message. */
export function useRevisionCommit(id: string | null) {
  const api = useApi();
  return useQuery({
    queryKey: [...queryKeys.revisions, id ?? ''],
    queryFn: () => api.call('getRevision', { params: { id: id ?? '' } }),
    enabled: id !== null,
    staleTime: 5 * 60_000,
  });
}

/**
 * Approves or rejects (the `decide` contract): one deployment, a wave of a revision, or the
 * whole revision. A decision on several hosts is all or nothing: when one host is refused,
 * none is decided and the error names it.
 */
export function useDecide() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ContractInput<Api['decide']>['body']) => api.call('decide', { body }),
    onSettled: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.approvals }),
        queryClient.invalidateQueries({ queryKey: queryKeys.deployments }),
        queryClient.invalidateQueries({ queryKey: queryKeys.overview }),
      ]),
  });
}
