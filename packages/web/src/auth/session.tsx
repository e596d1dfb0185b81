import type { Me, Role } from '@flotilla/protocol';
import { useQuery } from '@tanstack/react-query';
import { createContext, useCallback, useContext, type ReactNode } from 'react';
import { isUnauthenticated } from '../api/api-error.js';
import { useApi } from '../api/api-context.js';
import { queryKeys } from '../api/query-keys.js';
import { ErrorState, Loading } from '../components/states.js';
import { LoginPage } from './LoginPage.js';
import { roleAllows } from './role.js';

const SessionContext = createContext<Me | null>(null);

/**
 * Shows the login page until `GET /api/v1/me` answers, then the app with who is logged in.
 * A session that ends later (401 anywhere) brings the login page back (see main.tsx).
 */
export function SessionGate({ children }: { children: ReactNode }) {
  const api = useApi();
  const me = useQuery({
    queryKey: queryKeys.me,
    queryFn: () => api.call('me'),
    retry: false,
    staleTime: 60_000,
  });
  if (me.isPending) return <Loading label="Checking your session" />;
  if (me.isError) {
    if (isUnauthenticated(me.error)) return <LoginPage />;
    return <ErrorState error={me.error} retry={() => void me.refetch()} />;
  }
  return <SessionContext.Provider value={me.data}>{children}</SessionContext.Provider>;
}

/** Who is logged in, and with which role. */
export function useSession(): Me {
  const me = useContext(SessionContext);
  if (me === null) throw new Error('useSession outside <SessionGate>');
  return me;
}

/**
 * `can('operator')`: whether the logged-in role may do what the role named may. Views hide
 * actions the role lacks; the API refuses them anyway.
 */
export function useCan(): (needed: Role) => boolean {
  const { role } = useSession();
  return useCallback((needed: Role) => roleAllows(role, needed), [role]);
}

/**
 * Renders its children only for roles that include `role`.
 * @public for the pages' actions
 */
export function IfRole({ role, children }: { role: Role; children: ReactNode }) {
  const can = useCan();
  return can(role) ? <>{children}</> : null;
}

/**
 * Logs out, then loads the login page afresh: nothing of the session (cached answers, the
 * live stream) outlives it in this tab.
 */
export function useLogout(): () => Promise<void> {
  const api = useApi();
  return useCallback(async () => {
    await api.logout().catch(() => undefined);
    window.location.assign('/login');
  }, [api]);
}
