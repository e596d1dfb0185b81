import { BrandMark } from '../components/BrandMark.js';
import type { Build, FleetOverview, Me, Repository } from '@flotilla/protocol';
import { useOverview, useRecentBuilds, useRepository } from '../api/queries.js';
import { useLogout, useSession } from '../auth/session.js';
import { ThemeToggle } from '../components/ThemeToggle.js';
import { useLiveStatus } from '../live/live-context.js';
import type { LiveStatus } from '../live/live-events.js';
import { needsAttention } from '../pages/overview/overview-model.js';
import { Link } from './Link.js';

/** The header: the branch head, the builds, hosts that need attention, who is logged in. */
export function AppHeader() {
  const me = useSession();
  const repository = useRepository();
  const builds = useRecentBuilds(20);
  const overview = useOverview();
  const live = useLiveStatus();
  const logout = useLogout();
  return (
    <AppHeaderView
      me={me}
      repository={repository.data}
      builds={builds.data?.builds}
      overview={overview.data}
      live={live}
      onLogout={() => void logout()}
    />
  );
}

export function AppHeaderView(props: {
  me: Me;
  repository: Repository | null | undefined;
  builds: Build[] | undefined;
  overview: FleetOverview | undefined;
  live: LiveStatus;
  onLogout: () => void;
}) {
  const { me, repository, builds, overview, live } = props;
  const attention = overview?.hosts.filter(needsAttention).length;
  return (
    <header className="app-header">
      <Link to="/" className="brand">
        <BrandMark /> Flotilla
      </Link>
      <dl className="header-facts">
        <div>
          <dt>Branch</dt>
          <dd data-testid="branch-head">{branchHead(repository)}</dd>
        </div>
        <div>
          <dt>Builds</dt>
          <dd data-testid="build-status">{buildSummary(builds)}</dd>
        </div>
        <div>
          <dt>Attention</dt>
          <dd data-testid="attention">
            {attention === undefined ? (
              '…'
            ) : attention === 0 ? (
              <span className="ok">all hosts fine</span>
            ) : (
              <Link to="/?attention=1" className="warn">
                {attention} host{attention === 1 ? '' : 's'}
              </Link>
            )}
          </dd>
        </div>
      </dl>
      <div className="header-user">
        <span className={`live live-${live}`} title={liveTitle(live)}>
          <span className="live-dot" aria-hidden="true" />
          <span className="live-label">{live === 'live' ? 'live' : 'polling'}</span>
        </span>
        <span className="who" data-testid="who">
          {me.user.username} <span className="role">{me.role}</span>
        </span>
        <ThemeToggle />
        <button type="button" onClick={props.onLogout}>
          Log out
        </button>
      </div>
    </header>
  );
}

function branchHead(repository: Repository | null | undefined): string {
  if (repository === undefined) return '…';
  if (repository === null) return 'no repository linked';
  const sha = repository.followedSha?.slice(0, 8) ?? 'not fetched yet';
  return `${repository.branch} @ ${sha}${repository.lastFetchError ? ' (fetch failing)' : ''}`;
}

function buildSummary(builds: Build[] | undefined): string {
  if (builds === undefined) return '…';
  const running = builds.filter((b) => b.status === 'running').length;
  const queued = builds.filter((b) => b.status === 'queued').length;
  if (running + queued > 0) return `${running} running, ${queued} queued`;
  const last = builds[0];
  if (last === undefined) return 'none yet';
  return `last ${last.status} (${last.host})`;
}

function liveTitle(live: LiveStatus): string {
  switch (live) {
    case 'live':
      return 'Updates arrive live';
    case 'connecting':
      return 'Connecting to live updates';
    case 'reconnecting':
      return 'Live updates interrupted; reconnecting (refreshing every 15 s meanwhile)';
    case 'unavailable':
      return 'This controller sends no live updates; refreshing every 15 s';
  }
}
