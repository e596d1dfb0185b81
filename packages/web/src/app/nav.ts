/** The navigation, in order: the overview and one entry per top-level page. */
export const NAV_ITEMS = [
  { to: '/', label: 'Overview' },
  { to: '/approvals', label: 'Approvals' },
  { to: '/deployments', label: 'Deployments' },
  { to: '/builds', label: 'Builds' },
  { to: '/rollouts', label: 'Rollouts' },
  { to: '/editor', label: 'Editor' },
  { to: '/audit', label: 'Audit' },
  { to: '/settings', label: 'Settings' },
] as const;

/** Whether the nav item `to` is the section of `pathname` (`/hosts/…` belongs to the overview). */
export function isCurrentSection(to: string, pathname: string): boolean {
  if (to === '/') return pathname === '/' || pathname.startsWith('/hosts');
  return pathname === to || pathname.startsWith(`${to}/`);
}
