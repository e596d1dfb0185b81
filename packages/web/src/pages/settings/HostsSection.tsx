import { HostMode, type EnrollmentToken, type Host } from '@flotilla/protocol';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useAllHosts } from '../../api/queries.js';
import { Link } from '../../app/Link.js';
import { useCan } from '../../auth/session.js';
import { ActionError } from '../../components/ActionError.js';
import { Empty, QueryView } from '../../components/states.js';
import { Badge, type Tone } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { AGENT_TOKEN_FILE, agentCommand } from './agent-command.js';
import { OneTimeSecret } from './OneTimeSecret.js';
import { useCreateHost, useReenroll, useRevokeHost } from './settings.queries.js';

/** Hosts and their enrollment: add (token shown once), re-enroll, revoke. */
export function HostsSection({ cacheKey }: { cacheKey: string | null }) {
  const hosts = useAllHosts();
  const can = useCan();
  const [enrollment, setEnrollment] = useState<EnrollmentToken | null>(null);
  return (
    <section aria-labelledby="hosts-title" className="settings-section">
      <h2 id="hosts-title">Hosts and enrollment</h2>
      {enrollment && (
        <OneTimeSecret
          title={`Enrollment token for ${enrollment.host}`}
          secret={enrollment.token}
          onDismiss={() => setEnrollment(null)}
        >
          <p>
            Valid once, until <Time iso={enrollment.expiresAt} absolute />. On {enrollment.host},
            put it in <code>{AGENT_TOKEN_FILE}</code> (readable by root only) and start the agent:
          </p>
          <pre className="command" data-testid="agent-command">
            {agentCommand(enrollment.host, window.location.origin, cacheKey)}
          </pre>
        </OneTimeSecret>
      )}
      {can('admin') && <AddHostForm onAdded={setEnrollment} />}
      <QueryView query={hosts} label="Loading hosts">
        {(data) =>
          data.hosts.length === 0 ? (
            <Empty title="No hosts yet." />
          ) : (
            <HostTable hosts={data.hosts} admin={can('admin')} onEnrollment={setEnrollment} />
          )
        }
      </QueryView>
    </section>
  );
}

function AddHostForm({ onAdded }: { onAdded: (token: EnrollmentToken) => void }) {
  const create = useCreateHost();
  const [name, setName] = useState('');
  const [mode, setMode] = useState<HostMode>('managed');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { name: name.trim(), mode },
      {
        onSuccess: (answer) => {
          setName('');
          onAdded(answer.enrollment);
        },
      },
    );
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Add a host">
      <label>
        New host name
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          pattern="[a-z0-9]([a-z0-9\-]*[a-z0-9])?"
          title="lowercase letters, digits and -"
        />
      </label>
      <label>
        Mode
        <select value={mode} onChange={(e) => setMode(HostMode.parse(e.target.value))}>
          <option value="managed">managed (deployed to)</option>
          <option value="monitor">monitor only</option>
        </select>
      </label>
      <button type="submit" className="primary" disabled={create.isPending}>
        Add host
      </button>
      <ActionError error={create.error} />
    </form>
  );
}

function HostTable({
  hosts,
  admin,
  onEnrollment,
}: {
  hosts: Host[];
  admin: boolean;
  onEnrollment: (token: EnrollmentToken) => void;
}) {
  const [revoking, setRevoking] = useState<string | null>(null);
  return (
    <div className="table-scroll">
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">Host</th>
            <th scope="col">Mode</th>
            <th scope="col">Enrollment</th>
            <th scope="col">Key</th>
            {admin && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {hosts.map((h) => (
            <tr key={h.name} data-testid="settings-host" data-host={h.name}>
              <td>
                <Link to={`/hosts/${encodeURIComponent(h.name)}`}>{h.name}</Link>
              </td>
              <td>{h.mode}</td>
              <td>
                {h.identity ? (
                  <>
                    <Badge
                      tone={
                        (
                          {
                            enrolled: 'ok',
                            pending: 'warn',
                            revoked: 'bad',
                          } as const satisfies Record<string, Tone>
                        )[h.identity.status]
                      }
                      status={h.identity.status}
                    >
                      {h.identity.status}
                    </Badge>{' '}
                    {h.identity.enrollmentExpiresAt && (
                      <span className="muted small">
                        token until <Time iso={h.identity.enrollmentExpiresAt} />
                      </span>
                    )}
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td className="mono small break">{h.identity?.keyFingerprint ?? '—'}</td>
              {admin && (
                <td>
                  <span className="row-actions">
                    <ReenrollButton host={h.name} onEnrollment={onEnrollment} />
                    <button type="button" className="danger" onClick={() => setRevoking(h.name)}>
                      Revoke
                    </button>
                  </span>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {revoking && <RevokeDialog host={revoking} onDone={() => setRevoking(null)} />}
    </div>
  );
}

function ReenrollButton({
  host,
  onEnrollment,
}: {
  host: string;
  onEnrollment: (token: EnrollmentToken) => void;
}) {
  const reenroll = useReenroll();
  return (
    <>
      <button
        type="button"
        disabled={reenroll.isPending}
        onClick={() => reenroll.mutate(host, { onSuccess: onEnrollment })}
        aria-label={`Re-enroll ${host}`}
      >
        Re-enroll
      </button>
      <ActionError error={reenroll.error} />
    </>
  );
}

/** Revoking cuts the host off at once: its name typed out, then a TOTP code (step-up). */
function RevokeDialog({ host, onDone }: { host: string; onDone: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const revoke = useRevokeHost();
  const [typed, setTyped] = useState('');
  const [reason, setReason] = useState('');
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (typed !== host) return;
    revoke.mutate({ name: host, reason }, { onSuccess: onDone });
  };
  return (
    <dialog ref={dialog} className="dialog" aria-labelledby="revoke-title" onCancel={onDone}>
      <form onSubmit={submit}>
        <h2 id="revoke-title">Revoke {host}</h2>
        <p>
          Its key and unused enrollment tokens stop working and its agent is disconnected now. It
          comes back only by enrolling again with a new token.
        </p>
        <label>
          Type <strong>{host}</strong> to confirm
          <input value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus required />
        </label>
        <label>
          Reason (optional)
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} />
        </label>
        <ActionError error={revoke.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={typed !== host || revoke.isPending}>
            Revoke {host}
          </button>
        </div>
      </form>
    </dialog>
  );
}
