import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

/** What every page gets: the parameters of its path. */
export interface PageProps {
  params: Record<string, string>;
}

export interface AppRoute {
  /** `/hosts/:name`; a trailing `*` takes the rest of the path. */
  pattern: string;
  title: string;
  page: LazyExoticComponent<ComponentType<PageProps>>;
}

/** Each page is its own chunk, loaded when first shown. */
const OverviewPage = lazy(() =>
  import('../pages/overview/OverviewPage.js').then((m) => ({ default: m.OverviewPage })),
);
const HostPage = lazy(() =>
  import('../pages/host/HostPage.js').then((m) => ({ default: m.HostPage })),
);
const PlaceholderPage = lazy(() =>
  import('../pages/PlaceholderPage.js').then((m) => ({ default: m.PlaceholderPage })),
);

/**
 * The app's pages. Every first path segment is one of the protocol's `WebPage`s (the
 * controller answers those with the app), or `/`.
 */
export const ROUTES: readonly AppRoute[] = [
  { pattern: '/', title: 'Overview', page: OverviewPage },
  { pattern: '/login', title: 'Overview', page: OverviewPage },
  { pattern: '/hosts/:name', title: 'Host', page: HostPage },
  { pattern: '/approvals', title: 'Approvals', page: PlaceholderPage },
  { pattern: '/deployments', title: 'Deployments', page: PlaceholderPage },
  { pattern: '/deployments/:id', title: 'Deployment', page: PlaceholderPage },
  { pattern: '/builds', title: 'Builds', page: PlaceholderPage },
  { pattern: '/builds/:id', title: 'Build', page: PlaceholderPage },
  { pattern: '/rollouts', title: 'Rollouts', page: PlaceholderPage },
  { pattern: '/rollouts/:id', title: 'Rollout', page: PlaceholderPage },
  { pattern: '/editor/*', title: 'Editor', page: PlaceholderPage },
  { pattern: '/editor', title: 'Editor', page: PlaceholderPage },
  { pattern: '/audit', title: 'Audit', page: PlaceholderPage },
  { pattern: '/settings', title: 'Settings', page: PlaceholderPage },
];
