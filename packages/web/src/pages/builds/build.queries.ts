import { BuildLogLine, type BuildListQuery, type BuildStatus } from '@flotilla/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useApi } from '../../api/api-context.js';
import { queryKeys } from '../../api/query-keys.js';
import { usePollInterval } from '../../live/live-context.js';

/** Builds, newest first, by status, host and revision. */
export function useBuilds(filter: { status?: BuildStatus; host?: string; revision?: string }) {
  const api = useApi();
  const query: BuildListQuery = { ...filter, limit: 100 };
  return useQuery({
    queryKey: [...queryKeys.builds, query],
    queryFn: () => api.call('listBuilds', { query }),
    refetchInterval: usePollInterval(),
  });
}

export function useBuild(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.build(id),
    queryFn: () => api.call('getBuild', { params: { id } }),
    refetchInterval: usePollInterval(),
  });
}

/** Cancel (queued or running) or retry (failed or cancelled: a new attempt) a build. */
export function useBuildAction(id: string, action: 'cancel' | 'retry') {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      api.call(action === 'cancel' ? 'cancelBuild' : 'retryBuild', { params: { id } }),
    onSuccess: (build) =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.builds }),
        queryClient.invalidateQueries({ queryKey: queryKeys.build(id) }),
        queryClient.invalidateQueries({ queryKey: queryKeys.build(build.id) }),
      ]),
  });
}

/**
 * A build's log through its own stream (`streamBuildLog`): stored lines, then live ones,
 * then `end`. The browser's EventSource reconnects with Last-Event-ID by itself, so the
 * controller resumes after the last line; lines are kept by number, each once.
 */
export function useBuildLog(id: string) {
  const [state, setState] = useState<{
    id: string;
    lines: BuildLogLine[];
    ended: boolean;
    failed: boolean;
  }>({ id, lines: [], ended: false, failed: false });
  useEffect(() => {
    const source = new EventSource(`/api/v1/builds/${encodeURIComponent(id)}/log/stream`);
    let pending: BuildLogLine[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    // Lines arrive in bursts (a fast build prints thousands): one render per 100 ms at most.
    const flush = () => {
      timer = null;
      const batch = pending;
      pending = [];
      setState((current) => {
        const previous =
          current.id === id ? current : { id, lines: [], ended: false, failed: false };
        const last = previous.lines[previous.lines.length - 1]?.seq ?? 0;
        const fresh = batch.filter((line) => line.seq > last);
        return fresh.length === 0 && previous === current
          ? current
          : { ...previous, lines: [...previous.lines, ...fresh] };
      });
    };
    source.addEventListener('line', (event) => {
      const parsed = BuildLogLine.safeParse(JSON.parse(String(event.data)));
      if (!parsed.success) return;
      pending.push(parsed.data);
      timer ??= setTimeout(flush, 100);
    });
    source.addEventListener('end', () => {
      source.close();
      if (timer !== null) clearTimeout(timer);
      flush();
      setState((previous) => ({ ...previous, id, ended: true }));
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED)
        setState((previous) => ({ ...previous, id, failed: true }));
    });
    return () => {
      source.close();
      if (timer !== null) clearTimeout(timer);
    };
  }, [id]);
  return state.id === id ? state : { id, lines: [], ended: false, failed: false };
}
