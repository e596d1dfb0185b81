import { useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { queryKeys } from '../api/query-keys.js';
import type { LiveEvent } from './live-event.js';
import { LiveEvents, type LiveStatus } from './live-events.js';

/** The live-event stream (contract `events`). */
const EVENTS_PATH = '/api/v1/events';

const LiveContext = createContext<LiveEvents | null>(null);

/** Opens the tab's one live-event stream while the person is logged in. */
export function LiveEventsProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [live] = useState(
    () =>
      new LiveEvents({
        url: EVENTS_PATH,
        invalidate: (keys) => {
          for (const queryKey of keys) void queryClient.invalidateQueries({ queryKey });
        },
        invalidateAll: () => void queryClient.invalidateQueries(),
        onUnauthorized: () => void queryClient.invalidateQueries({ queryKey: queryKeys.me }),
      }),
  );
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

function useLive(): LiveEvents | null {
  return useContext(LiveContext);
}

/** Whether updates arrive live; views poll slowly when they do not. */
export function useLiveStatus(): LiveStatus {
  const live = useLive();
  return useSyncExternalStore(
    (onChange) => live?.onStatus(onChange) ?? (() => undefined),
    () => live?.status ?? 'unavailable',
  );
}

/** How often a view refetches by itself: never while live, every 15 s otherwise. */
export function usePollInterval(): number | false {
  return useLiveStatus() === 'live' ? false : 15_000;
}

/**
 * Calls `listener` with each live event (e.g. an open log appends `deployment.log` lines).
 */
export function useLiveEvent(listener: (event: LiveEvent) => void): void {
  const live = useLive();
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => live?.onEvent((event) => latest.current(event)), [live]);
}
