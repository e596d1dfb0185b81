import type { Host, HostList } from '@flotilla/protocol';
import { useQuery } from '@tanstack/react-query';
import { usePollInterval } from '../live/live-context.js';
import { ApiError } from './api-error.js';
import { useApi } from './api-context.js';
import type { ApiClient } from './api-client.js';
import { queryKeys } from './query-keys.js';

/**
 * The app's reads, one hook each, keyed by `queryKeys` so live events refresh them. Views
 * take the data as props; only pages call these.
 */

/** Every host, following `nextCursor` (1,000 a page). */
async function fetchAllHosts(api: ApiClient): Promise<HostList> {
  const hosts: Host[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await api.call('listHosts', { query: { limit: 1000, cursor } });
    hosts.push(...page.hosts);
    if (page.nextCursor === null) return { hosts, nextCursor: null, counts: page.counts };
    cursor = page.nextCursor;
  }
}

/** Every host of the registry (the pages' host pickers). */
export function useAllHosts() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.hosts,
    queryFn: () => fetchAllHosts(api),
    refetchInterval: usePollInterval(),
  });
}

/** The linked repository; null when none is linked yet. */
export function useRepository() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.repository,
    queryFn: () =>
      api.call('getRepository').catch((error: unknown) => {
        if (error instanceof ApiError && error.code === 'repository_not_linked') return null;
        throw error;
      }),
    refetchInterval: usePollInterval(),
  });
}

export function useRecentBuilds(limit = 50) {
  const api = useApi();
  return useQuery({
    queryKey: [...queryKeys.builds, { limit }],
    queryFn: () => api.call('listBuilds', { query: { limit } }),
    refetchInterval: usePollInterval(),
  });
}

/** Every host with its rules and deployments, in one answer (the fleet view). */
export function useOverview() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.overview,
    queryFn: () => api.call('overview'),
    refetchInterval: usePollInterval(),
  });
}
