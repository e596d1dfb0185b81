import type { Build } from '@flotilla/protocol';
import { Link } from '../../app/Link.js';
import { navigate } from '../../app/router.js';
import { IfRole } from '../../auth/session.js';
import { ActionError } from '../../components/ActionError.js';
import { LogView } from '../../components/LogView.js';
import { QueryView } from '../../components/states.js';
import { BuildStatusBadge } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { elapsed, formatBytes, formatDuration } from '../../format/quantity.js';
import { useBuild, useBuildAction, useBuildLog } from './build.queries.js';

/** One build: its state, its Nix error first when it failed, its live log; cancel, retry. */
export function BuildPage({ params }: { params: Record<string, string> }) {
  const id = params['id'] ?? '';
  const build = useBuild(id);
  const log = useBuildLog(id);
  return (
    <section aria-labelledby="build-title">
      <p className="breadcrumb">
        <Link to="/builds">Builds</Link>
      </p>
      <QueryView query={build} label="Loading the build">
        {(b) => <BuildDetails build={b} />}
      </QueryView>
      <h2>Log</h2>
      {log.failed && !log.ended && (
        <p className="warn" role="status">
          The log stream closed; reload the page to follow it again.
        </p>
      )}
      <LogView
        lines={log.lines}
        label="Build log"
        emptyText={log.ended ? 'This build printed nothing.' : 'Waiting for output…'}
      />
    </section>
  );
}

function BuildDetails({ build: b }: { build: Build }) {
  const open = b.status === 'queued' || b.status === 'running';
  return (
    <>
      <header className="page-header">
        <h1 id="build-title">
          Build for <Link to={`/hosts/${encodeURIComponent(b.host)}`}>{b.host}</Link>
        </h1>
        <span data-testid="build-status">
          <BuildStatusBadge status={b.status} />
        </span>
      </header>
      {b.errorSummary && (
        <div className="callout callout-bad" role="alert">
          <strong>Nix said:</strong>
          <pre className="error-text">{b.errorSummary}</pre>
        </div>
      )}
      <IfRole role="operator">
        <div className="actions">
          {open ? <BuildActionButton id={b.id} action="cancel" /> : null}
          {b.status === 'failed' || b.status === 'cancelled' ? (
            <BuildActionButton id={b.id} action="retry" />
          ) : null}
        </div>
      </IfRole>
      <dl className="facts">
        <div>
          <dt>Revision</dt>
          <dd>
            <Link to={`/rollouts/${encodeURIComponent(b.revisionId)}`} className="mono">
              {b.revisionId}
            </Link>
          </dd>
        </div>
        <div>
          <dt>Kind</dt>
          <dd>
            {b.kind}, attempt {b.attempt}
          </dd>
        </div>
        <div>
          <dt>Derivation</dt>
          <dd>
            <code className="break">{b.drvPath}</code>
          </dd>
        </div>
        <div>
          <dt>Output</dt>
          <dd>{b.outPath ? <code className="break">{b.outPath}</code> : '—'}</dd>
        </div>
        <div>
          <dt>Closure</dt>
          <dd>{formatBytes(b.closureSize)}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time iso={b.createdAt} absolute />
          </dd>
        </div>
        <div>
          <dt>Ran</dt>
          <dd>
            {formatDuration(elapsed(b.startedAt, b.finishedAt))}
            {b.startedAt !== null && b.finishedAt === null && ' so far'}
          </dd>
        </div>
        <div>
          <dt>Log</dt>
          <dd>
            {formatBytes(b.logBytes)}
            {b.logTruncated && <span className="warn"> (truncated)</span>}
          </dd>
        </div>
      </dl>
    </>
  );
}

function BuildActionButton({ id, action }: { id: string; action: 'cancel' | 'retry' }) {
  const run = useBuildAction(id, action);
  return (
    <>
      <button
        type="button"
        className={action === 'cancel' ? 'danger' : 'primary'}
        disabled={run.isPending}
        onClick={() =>
          run.mutate(undefined, {
            onSuccess: (build) => {
              if (build.id !== id) navigate(`/builds/${encodeURIComponent(build.id)}`);
            },
          })
        }
      >
        {action === 'cancel' ? 'Cancel build' : 'Retry build'}
      </button>
      <ActionError error={run.error} />
    </>
  );
}
