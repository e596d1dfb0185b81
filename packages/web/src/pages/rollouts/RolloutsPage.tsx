import type { Revision } from '@flotilla/protocol';
import { Link } from '../../app/Link.js';
import { Empty, QueryView } from '../../components/states.js';
import { Badge } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { shortSha } from '../../format/quantity.js';
import { timeZoneName } from '../../format/time.js';
import { useBranchRevisions } from './rollout.queries.js';

/** One rollout per revision of the tracked branch, newest first. */
export function RolloutsPage() {
  const revisions = useBranchRevisions();
  return (
    <section aria-labelledby="rollouts-title">
      <h1 id="rollouts-title">Rollouts</h1>
      <p className="muted">
        Each revision of the tracked branch rolls out wave by wave. Times in {timeZoneName()}.
      </p>
      <QueryView query={revisions} label="Loading revisions">
        {(data) => <RevisionList revisions={data.revisions} />}
      </QueryView>
    </section>
  );
}

function RevisionList({ revisions }: { revisions: Revision[] }) {
  if (revisions.length === 0) {
    return (
      <Empty title="No revisions yet.">
        <p>Link a repository in Settings; each push to its branch starts a rollout.</p>
      </Empty>
    );
  }
  return (
    <ul className="card-list">
      {revisions.map((r) => (
        <li key={r.id} className="card" data-testid="rollout-row">
          <Link to={`/rollouts/${encodeURIComponent(r.id)}`} className="mono">
            {shortSha(r.sha)}
          </Link>{' '}
          <span className="commit-subject">{r.message.split('\n')[0]}</span>
          <div className="muted small">
            {r.author} · <Time iso={r.committedAt} /> ·{' '}
            <Badge tone={r.status === 'failed' ? 'bad' : 'muted'} status={r.status}>
              {r.status}
            </Badge>
          </div>
        </li>
      ))}
    </ul>
  );
}
