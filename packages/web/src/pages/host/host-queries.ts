import { useQuery } from '@tanstack/react-query';
import { useApi } from '../../api/api-context.js';
import { queryKeys } from '../../api/query-keys.js';
import { usePollInterval } from '../../live/live-context.js';

/** The host page's reads; each is refreshed by the live events that name the host. */
export function useHostPageData(name: string) {
  const api = useApi();
  const poll = usePollInterval();
  const host = useQuery({
    queryKey: queryKeys.host(name),
    queryFn: () => api.call('getHost', { params: { name } }),
    refetchInterval: poll,
  });
  const status = useQuery({
    queryKey: queryKeys.hostStatus(name),
    queryFn: () => api.call('getHostStatus', { params: { name } }),
    refetchInterval: poll,
  });
  const deployments = useQuery({
    queryKey: [...queryKeys.host(name), 'deployments'],
    queryFn: () => api.call('listDeployments', { query: { host: name, limit: 20 } }),
    refetchInterval: poll,
  });
  const policies = useQuery({
    queryKey: queryKeys.policies,
    queryFn: () => api.call('listPolicies'),
  });
  const graduation = useQuery({
    queryKey: queryKeys.graduation,
    queryFn: () => api.call('graduation'),
  });
  return {
    host,
    status,
    deployments,
    policy: policies.data?.policies.find((p) => p.host === name),
    graduation: graduation.data?.hosts.find((g) => g.host === name),
  };
}
