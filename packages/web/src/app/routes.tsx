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
const DeploymentsPage = lazy(() =>
  import('../pages/deployments/DeploymentsPage.js').then((m) => ({ default: m.DeploymentsPage })),
);
const DeploymentPage = lazy(() =>
  import('../pages/deployments/DeploymentPage.js').then((m) => ({ default: m.DeploymentPage })),
);
const BuildsPage = lazy(() =>
  import('../pages/builds/BuildsPage.js').then((m) => ({ default: m.BuildsPage })),
);
const BuildPage = lazy(() =>
  import('../pages/builds/BuildPage.js').then((m) => ({ default: m.BuildPage })),
);
const RolloutsPage = lazy(() =>
  import('../pages/rollouts/RolloutsPage.js').then((m) => ({ default: m.RolloutsPage })),
);
const RolloutPage = lazy(() =>
  import('../pages/rollouts/RolloutPage.js').then((m) => ({ default: m.RolloutPage })),
);
const ApprovalsPage = lazy(() =>
  import('../pages/approvals/ApprovalsPage.js').then((m) => ({ default: m.ApprovalsPage })),
);
const AuditPage = lazy(() =>
  import('../pages/audit/AuditPage.js').then((m) => ({ default: m.AuditPage })),
);
const SettingsPage = lazy(() =>
  import('../pages/settings/SettingsPage.js').then((m) => ({ default: m.SettingsPage })),
);
const EditorPage = lazy(() =>
  import('../pages/editor/EditorPage.js').then((m) => ({ default: m.EditorPage })),
);

/**
 * The app's pages. Every first path segment is one of the protocol's `WebPage`s (the
 * controller answers those with the app), or `/`.
 */
export const ROUTES: readonly AppRoute[] = [
  { pattern: '/', title: 'Overview', page: OverviewPage },
  { pattern: '/login', title: 'Overview', page: OverviewPage },
  { pattern: '/hosts/:name', title: 'Host', page: HostPage },
  { pattern: '/approvals', title: 'Approvals', page: ApprovalsPage },
  { pattern: '/deployments', title: 'Deployments', page: DeploymentsPage },
  { pattern: '/deployments/:id', title: 'Deployment', page: DeploymentPage },
  { pattern: '/builds', title: 'Builds', page: BuildsPage },
  { pattern: '/builds/:id', title: 'Build', page: BuildPage },
  { pattern: '/rollouts', title: 'Rollouts', page: RolloutsPage },
  { pattern: '/rollouts/:id', title: 'Rollout', page: RolloutPage },
  { pattern: '/editor', title: 'Editor', page: EditorPage },
  { pattern: '/audit', title: 'Audit', page: AuditPage },
  { pattern: '/settings', title: 'Settings', page: SettingsPage },
];
