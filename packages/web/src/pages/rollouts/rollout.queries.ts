import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApi } from '../../api/api-context.js';
import { queryKeys } from '../../api/query-keys.js';
import { usePollInterval } from '../../live/live-context.js';

/** The tracked branch's revisions, newest first: each has a rollout. */
export function useBranchRevisions(limit = 50) {
  const api = useApi();
  return useQuery({
    queryKey: [...queryKeys.revisions, { kind: 'branch', limit }],
    queryFn: () => api.call('listRevisions', { query: { kind: 'branch', limit } }),
    refetchInterval: usePollInterval(),
  });
}

export function useRevision(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: [...queryKeys.revisions, id],
    queryFn: () => api.call('getRevision', { params: { id } }),
  });
}

export function useRollout(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.rollout(id),
    queryFn: () => api.call('getRollout', { params: { id } }),
    refetchInterval: usePollInterval(),
  });
}

/** Lifts a revision's halt with a reason; its held deployments move on. */
export function useResumeRollout(id: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (reason: string) => api.call('resumeRollout', { params: { id }, body: { reason } }),
    onSuccess: (rollout) => {
      queryClient.setQueryData(queryKeys.rollout(id), rollout);
      return Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.approvals }),
        queryClient.invalidateQueries({ queryKey: queryKeys.deployments }),
      ]);
    },
  });
}
