import type { LogLine } from '@flotilla/protocol';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useApi } from '../api/api-context.js';
import { useLiveEvent, useLiveStatus } from '../live/live-context.js';
import { formatTime } from '../format/time.js';
import { ErrorState, Loading } from './states.js';

/**
 * A deployment's log: the stored lines, then new ones as they arrive (`deployment.log`
 * events; every 2 s from the log route when the live stream is not there). A reload shows
 * everything again, since every line is stored before it is sent.
 */
export function DeploymentLog({
  deploymentId,
  running,
}: {
  deploymentId: string;
  running: boolean;
}) {
  const api = useApi();
  const live = useLiveStatus();
  const [extra, setExtra] = useState<LogLine[]>([]);
  const stored = useQuery({
    queryKey: ['deployment', deploymentId, 'log'],
    queryFn: () =>
      api.call('getDeploymentLog', {
        params: { id: deploymentId },
        query: { after: 0, limit: 5000 },
      }),
    refetchInterval: running && live !== 'live' ? 2000 : false,
  });
  useLiveEvent((event) => {
    if (event.type !== 'deployment.log' || event.deploymentId !== deploymentId) return;
    setExtra((lines) => [
      ...lines,
      { seq: event.seq, at: event.at, stream: event.stream, line: event.line },
    ]);
  });
  const bottom = useRef<HTMLDivElement>(null);
  const lines = merge(stored.data?.lines ?? [], extra);
  useEffect(() => {
    if (running) bottom.current?.scrollIntoView({ block: 'nearest' });
  }, [lines.length, running]);
  if (stored.isPending) return <Loading label="Loading the log" />;
  if (stored.isError)
    return <ErrorState error={stored.error} retry={() => void stored.refetch()} />;
  return (
    <div
      className="log"
      role="log"
      aria-live={running ? 'polite' : 'off'}
      aria-label="Deployment log"
      data-testid="deployment-log"
    >
      {lines.length === 0 ? (
        <p className="muted">No lines yet.</p>
      ) : (
        lines.map((line) => (
          <div key={line.seq} className={`log-line log-${line.stream}`}>
            <span className="log-time" title={formatTime(line.at)}>
              {new Date(line.at).toLocaleTimeString()}
            </span>
            <span className="log-text">{line.line}</span>
          </div>
        ))
      )}
      <div ref={bottom} />
    </div>
  );
}

/** Stored and live lines in order, each sequence number once. */
function merge(stored: readonly LogLine[], extra: readonly LogLine[]): LogLine[] {
  const bySeq = new Map<number, LogLine>();
  for (const line of [...stored, ...extra]) bySeq.set(line.seq, line);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}
