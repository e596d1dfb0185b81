/**
 * Every query key of the app, in one place, so live events (live/live-events.ts) invalidate
 * exactly what they change. Keys are prefixes: invalidating `['host', 'web1']` also
 * refetches `['host', 'web1', 'status']`.
 */
export const queryKeys = {
  me: ['me'] as const,
  hosts: ['hosts'] as const,
  host: (name: string) => ['host', name] as const,
  hostStatus: (name: string) => ['host', name, 'status'] as const,
  overview: ['overview'] as const,
  repository: ['repository'] as const,
  revisions: ['revisions'] as const,
  builds: ['builds'] as const,
  build: (id: string) => ['build', id] as const,
  releases: ['releases'] as const,
  deployments: ['deployments'] as const,
  deployment: (id: string) => ['deployment', id] as const,
  approvals: ['approvals'] as const,
  policies: ['policies'] as const,
  graduation: ['graduation'] as const,
  rollouts: ['rollouts'] as const,
  waves: ['waves'] as const,
  windows: ['windows'] as const,
  webhook: ['webhook'] as const,
  rollout: (id: string) => ['rollout', id] as const,
  audit: ['audit'] as const,
  drafts: ['drafts'] as const,
  draft: (id: string) => ['drafts', id] as const,
  /** The tracked branch's tree at its head in the controller's mirror (moves with syncs). */
  editorHead: ['editor', 'head'] as const,
  /** A file or tree at a commit: never changes. */
  editorAt: (commit: string, what: 'tree' | 'file', path = '') =>
    ['editor', 'at', commit, what, path] as const,
  cache: ['cache'] as const,
  users: ['users'] as const,
  tokens: ['tokens'] as const,
  notifications: ['notifications'] as const,
};

export type QueryKey = readonly string[];
