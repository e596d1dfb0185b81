import type { DeploymentListQuery, DeploymentStatus, LogLine } from '@flotilla/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '../../api/api-context.js';
import type { ApiClient } from '../../api/api-client.js';
import { queryKeys } from '../../api/query-keys.js';
import { useLiveEvent, useLiveStatus, usePollInterval } from '../../live/live-context.js';
import { EMPTY_LOG, mergeLogLines, resumeAfter, type LogState } from './deployment-log.js';

/** Deployments, newest first, by host, status and revision. */
export function useDeployments(filter: {
  host?: string;
  status?: DeploymentStatus;
  revision?: string;
  limit?: number;
}) {
  const api = useApi();
  const query: DeploymentListQuery = {
    host: filter.host,
    status: filter.status === undefined ? undefined : [filter.status],
    revision: filter.revision,
    limit: filter.limit ?? 100,
  };
  return useQuery({
    queryKey: [...queryKeys.deployments, query],
    queryFn: () => api.call('listDeployments', { query }),
    refetchInterval: usePollInterval(),
  });
}

/** One deployment (its log comes from {@link useDeploymentLog}). */
export function useDeployment(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.deployment(id),
    queryFn: () => api.call('getDeployment', { params: { id } }),
    select: ({ log: _log, ...deployment }) => deployment,
    refetchInterval: usePollInterval(),
  });
}

/** Cancels a deployment nothing was sent for yet. */
export function useCancelDeployment(id: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (reason: string) =>
      api.call('cancelDeployment', {
        params: { id },
        body: reason.trim() === '' ? {} : { reason: reason.trim() },
      }),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.deployment(id) }),
        queryClient.invalidateQueries({ queryKey: queryKeys.deployments }),
        queryClient.invalidateQueries({ queryKey: queryKeys.approvals }),
      ]),
  });
}

const PAGE = 5000;

/** Every stored line after `after`, page by page. */
async function fetchLogAfter(api: ApiClient, id: string, after: number): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  let from = after;
  for (;;) {
    const page = await api.call('getDeploymentLog', {
      params: { id },
      query: { after: from, limit: PAGE },
    });
    lines.push(...page.lines);
    if (page.lines.length < PAGE || page.last <= from) return lines;
    from = page.last;
  }
}

/**
 * A deployment's log, live: the stored lines first (`getDeploymentLog`), then each
 * `deployment.log` event of this deployment appended by sequence number, never twice. A
 * hole (a line missed while the stream was away) is filled from the API; so is the tail
 * whenever the stream comes back or the deployment's `status` moves (a final status after
 * a reconnect means lines may have been missed).
 */
export function useDeploymentLog(id: string, status: DeploymentStatus | undefined) {
  const api = useApi();
  const [state, setState] = useState<{ id: string; log: LogState }>({ id, log: EMPTY_LOG });
  const [error, setError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const current = state.id === id ? state.log : EMPTY_LOG;
  const latest = useRef(current);
  useEffect(() => {
    latest.current = current;
  });
  const fetching = useRef(false);

  const merge = useCallback(
    (lines: readonly LogLine[]) =>
      setState((previous) => ({
        id,
        log: mergeLogLines(previous.id === id ? previous.log : EMPTY_LOG, lines),
      })),
    [id],
  );

  const fill = useCallback(async () => {
    if (fetching.current) return;
    fetching.current = true;
    try {
      merge(await fetchLogAfter(api, id, resumeAfter(latest.current)));
      setError(null);
      setLoaded(true);
    } catch (caught) {
      setError(caught);
    } finally {
      fetching.current = false;
    }
  }, [api, id, merge]);

  const live = useLiveStatus();
  useEffect(() => {
    if (live === 'reconnecting') return;
    void fill();
    if (live === 'live') return;
    // No live stream: follow the log by asking, as other views poll.
    const timer = setInterval(() => void fill(), 5_000);
    return () => clearInterval(timer);
  }, [fill, live, status]);

  useLiveEvent((event) => {
    if (event.type !== 'deployment.log' || event.deploymentId !== id) return;
    const { seq, at, stream, line } = event;
    merge([{ seq, at, stream, line }]);
    if (seq > latest.current.last + 1) void fill();
  });

  return { log: current, loaded, error, retry: fill };
}
