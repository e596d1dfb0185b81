import {
  formatNixErrorLocation,
  type DraftCheck,
  type DraftConflict,
  type DraftHostStatus,
  type HostEvaluationError,
} from '@flotilla/protocol';
import { useState } from 'react';
import { Time } from '../../components/Time.js';

const STATUS_LABEL: Readonly<Record<DraftHostStatus, string>> = {
  unchanged: 'unchanged',
  rebuild: 'would rebuild',
  added: 'new host',
  removed: 'removed',
  error: 'error',
};
const STATUS_BADGE: Readonly<Record<DraftHostStatus, string>> = {
  unchanged: 'muted',
  rebuild: 'info',
  added: 'info',
  removed: 'warn',
  error: 'bad',
};

/** Opens a file of the repository at a line (an error's location). */
export type OpenAt = (path: string, line: number | null) => void;

/**
 * What a check found: one line, the flake's error if it does not evaluate, and each host:
 * unchanged, would rebuild, new, removed, or its error with file:line.
 */
export function CheckView(props: { check: DraftCheck; stale: boolean; openAt: OpenAt }) {
  const { check } = props;
  return (
    <div data-testid="draft-check" data-ok={check.ok}>
      <p className={`callout ${check.ok ? 'callout-ok' : 'callout-bad'}`}>
        <strong>{check.ok ? 'Ready to commit' : 'Not ready to commit'}:</strong> {check.summary}
        <br />
        <span className="small muted">
          Checked <Time iso={check.checkedAt} />
          {check.rebased && ' on the moved branch head (merged)'}
          {props.stale && ' — the draft changed since; check again'}
        </span>
      </p>
      {check.flakeError && (
        <p className="error-text">
          <EvaluationError error={check.flakeError} openAt={props.openAt} />
        </p>
      )}
      {check.hosts.length > 0 && (
        <div className="table-scroll">
          <table className="data-table compact">
            <caption className="visually-hidden">What the draft does to each host</caption>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Result</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {check.hosts.map((host) => (
                <tr
                  key={host.host}
                  data-testid="check-host"
                  data-host={host.host}
                  data-status={host.status}
                >
                  <th scope="row">{host.host}</th>
                  <td>
                    <span className={`badge badge-${STATUS_BADGE[host.status]}`}>
                      {STATUS_LABEL[host.status]}
                    </span>
                  </td>
                  <td className="break">
                    {host.error && <EvaluationError error={host.error} openAt={props.openAt} />}
                    {host.failsAtHead && (
                      <span className="small muted"> (fails at the branch head too)</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function EvaluationError({ error, openAt }: { error: HostEvaluationError; openAt: OpenAt }) {
  const { location } = error;
  // Only paths inside the repository open here; an error inside nixpkgs is absolute.
  const inRepository = location !== null && !location.file.startsWith('/');
  return (
    <>
      {error.message}
      {location !== null && (
        <>
          {' at '}
          {inRepository ? (
            <button
              type="button"
              className="link-button mono"
              onClick={() => openAt(location.file, location.line)}
            >
              {formatNixErrorLocation(location)}
            </button>
          ) : (
            <code>{formatNixErrorLocation(location)}</code>
          )}
        </>
      )}
    </>
  );
}

/**
 * The branch moved and files of the draft do not merge: every version of each, the draft
 * kept as it is, and a way to settle it — edit the merged text (with conflict markers) into
 * what the file should be and rebase the draft onto the branch head with it.
 */
export function ConflictView(props: {
  conflict: DraftConflict;
  busy: boolean;
  onResolve: (resolutions: { path: string; content: string | null }[]) => void;
}) {
  const { conflict } = props;
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries(
      conflict.files.map((file) => [file.path, file.merged ?? file.draft ?? file.branch ?? '']),
    ),
  );
  return (
    <div className="callout callout-bad" data-testid="draft-conflict" role="alert">
      <p>
        <strong>Conflict:</strong> the branch moved to{' '}
        <code>{conflict.headCommit.slice(0, 10)}</code> since this draft was made (on{' '}
        <code>{conflict.baseCommit.slice(0, 10)}</code>), and {conflict.files.length} file
        {conflict.files.length === 1 ? '' : 's'} changed on both sides. Nothing was pushed; your
        draft is kept as it is.
      </p>
      {conflict.files.map((file) => (
        <div
          key={file.path}
          className="conflict-file"
          data-testid="conflict-file"
          data-path={file.path}
        >
          <label>
            <span>
              <code>{file.path}</code> ({file.reason.replace(/_/g, ' ')}) — resolved content
            </span>
            <textarea
              className="mono"
              rows={Math.min(20, (texts[file.path] ?? '').split('\n').length + 1)}
              value={texts[file.path] ?? ''}
              onChange={(e) => setTexts({ ...texts, [file.path]: e.target.value })}
            />
          </label>
          {file.branch !== null && (
            <details>
              <summary>The branch's version</summary>
              <pre className="conflict-version">{file.branch}</pre>
            </details>
          )}
        </div>
      ))}
      <div className="actions">
        <button
          type="button"
          disabled={props.busy}
          onClick={() =>
            props.onResolve(
              conflict.files.map((f) => ({ path: f.path, content: texts[f.path] ?? '' })),
            )
          }
        >
          Rebase onto the branch head with these resolutions
        </button>
      </div>
    </div>
  );
}
