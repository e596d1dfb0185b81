import { useSyncExternalStore } from 'react';

/**
 * A small router on the History API: paths like `/hosts/:name` with named parameters and
 * a trailing `*` for the rest. Enough for this app's flat page list; nothing to load.
 */

const NAVIGATE_EVENT = 'flotilla:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

const locationKey = () => `${window.location.pathname}${window.location.search}`;

/** The current path and query, re-rendering on every navigation. */
export function useLocation(): { pathname: string; search: URLSearchParams } {
  const key = useSyncExternalStore(subscribe, locationKey);
  const url = new URL(key, window.location.origin);
  return { pathname: url.pathname, search: url.searchParams };
}

/** Goes to `to` inside the app (`replace` keeps the history entry count). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** Sets query parameters of the current page without a new history entry (filters, sort). */
export function setSearch(values: Record<string, string | null>): void {
  const url = new URL(window.location.href);
  for (const [name, value] of Object.entries(values)) {
    if (value === null || value === '') url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  navigate(`${url.pathname}${url.search}`, { replace: true });
}

/** The parameters of `path` matched against `pattern`, or null when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const wanted = pattern.split('/').filter(Boolean);
  const given = path.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < wanted.length; i += 1) {
    const part = wanted[i] as string;
    if (part === '*') {
      params['*'] = given.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    const value = given[i];
    if (value === undefined) return null;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(value);
    else if (part !== value) return null;
  }
  return given.length === wanted.length ? params : null;
}
