import type { Api, ContractInput } from '@flotilla/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApi } from '../../api/api-context.js';
import { queryKeys } from '../../api/query-keys.js';

type Body<K extends keyof Api> = ContractInput<Api[K]> extends { body: infer B } ? B : never;

export function useCacheInfo() {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.cache, queryFn: () => api.call('getCacheInfo') });
}

/** Whether the controller can check GitHub's deliveries (a webhook secret is configured). */
export function useWebhookInfo() {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.webhook, queryFn: () => api.call('getWebhookInfo') });
}

/** The config file's deploy windows, host by host and wave by wave, open now or not. */
export function useDeployWindows() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.windows,
    queryFn: () => api.call('listWindows'),
    staleTime: 60_000,
  });
}

export function useUsers(enabled: boolean) {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.users, queryFn: () => api.call('listUsers'), enabled });
}

/** The caller's API tokens; an admin's list has everyone's. */
export function useTokens(all: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: [...queryKeys.tokens, { all }],
    queryFn: () => api.call('listTokens', { query: all ? { all: 'true' } : {} }),
  });
}

export function useNotifications() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.notifications,
    queryFn: () => api.call('listNotifications', { query: { limit: 20 } }),
  });
}

export function useLinkRepository() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Body<'linkRepository'>) => api.call('linkRepository', { body }),
    onSuccess: (repository) => queryClient.setQueryData(queryKeys.repository, repository),
  });
}

export function useCreateHost() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Body<'createHost'>) => api.call('createHost', { body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.hosts }),
  });
}

/** A fresh one-time enrollment token (step-up). */
export function useReenroll() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.call('issueEnrollment', { params: { name }, body: {} }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.hosts }),
  });
}

/** Revokes a host's key and unused tokens, cutting its agent off (step-up). */
export function useRevokeHost() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ name, reason }: { name: string; reason: string }) =>
      api.call('revokeHost', {
        params: { name },
        body: reason.trim() === '' ? {} : { reason: reason.trim() },
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.hosts }),
  });
}

export function useCreateUser() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Body<'createUser'>) => api.call('createUser', { body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.users }),
  });
}

/** Role, disable or enable, reset password or TOTP (step-up). */
export function useUpdateUser() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ username, body }: { username: string; body: Body<'updateUser'> }) =>
      api.call('updateUser', { params: { username }, body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.users }),
  });
}

export function useCreateToken() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Body<'createToken'>) => api.call('createToken', { body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.tokens }),
  });
}

export function useRevokeToken() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.call('revokeToken', { params: { id } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.tokens }),
  });
}
