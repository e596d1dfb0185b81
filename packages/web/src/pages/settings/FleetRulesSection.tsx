import { useWaves } from '../approvals/approval.queries.js';
import { Empty, QueryView } from '../../components/states.js';
import { Badge, type Tone } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { formatDuration } from '../../format/quantity.js';
import { useDeployWindows, useNotifications } from './settings.queries.js';

/** Waves, deploy windows and notification targets: all from the config file, read-only here. */
export function FleetRulesSection() {
  const waves = useWaves();
  const notifications = useNotifications();
  const windows = useDeployWindows();
  return (
    <section aria-labelledby="rules-title" className="settings-section">
      <h2 id="rules-title">Waves, windows and notifications</h2>
      <p className="callout">
        These come from the controller's <strong>config file</strong> and are read-only here: change
        them there and restart the controller.
      </p>
      <h3>Waves</h3>
      <QueryView query={waves} label="Loading waves">
        {(data) =>
          data.waves.length === 0 ? (
            <Empty title="No waves: every approved deployment goes at once." />
          ) : (
            <ol className="plain-list" data-testid="settings-waves">
              {data.waves.map((w) => (
                <li key={w.name}>
                  <strong>{w.name}</strong>: {w.hosts.join(', ') || 'no hosts'};{' '}
                  {w.soakSeconds === 0
                    ? 'no soak'
                    : `soaks ${formatDuration(w.soakSeconds * 1000)}`}
                </li>
              ))}
            </ol>
          )
        }
      </QueryView>
      <h3>Deploy windows</h3>
      <p className="muted">
        Set per host (<code>hosts.NAME.windows</code>) or per wave in the config file; a host may be
        deployed to while its own or its wave's window is open. A deployment held by a closed window
        says so on its page.
      </p>
      <QueryView query={windows} label="Loading deploy windows">
        {(data) =>
          data.windows.length === 0 ? (
            <Empty title="No windows: every host may be deployed to at any time." />
          ) : (
            <ul className="plain-list" data-testid="settings-windows">
              {data.windows.map((w) => (
                <li key={`${w.scope}:${w.name}`}>
                  <strong>{w.name}</strong> <span className="muted">({w.scope})</span>:{' '}
                  {w.description}{' '}
                  {w.open ? (
                    <Badge tone="ok" status="open">
                      open now
                    </Badge>
                  ) : (
                    <span className="muted">
                      {w.nextOpen === null ? (
                        'opens not within 8 days'
                      ) : (
                        <>
                          opens <Time iso={w.nextOpen} absolute />
                        </>
                      )}
                    </span>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </QueryView>
      <h3>Notification targets</h3>
      <p className="muted">
        Webhooks and ntfy topics are set in the config file (<code>notifications</code>); the API
        lists what was sent and how each receiver took it:
      </p>
      <QueryView query={notifications} label="Loading notifications">
        {(data) =>
          data.notifications.length === 0 ? (
            <Empty title="Nothing was sent yet." />
          ) : (
            <ul className="plain-list">
              {data.notifications.map((n) => (
                <li key={n.id}>
                  <Time iso={n.at} /> <span className="mono">{n.kind}</span> {n.summary}{' '}
                  {n.deliveries.map((d) => (
                    <Badge
                      key={d.receiver}
                      tone={
                        (
                          {
                            delivered: 'ok',
                            pending: 'info',
                            failed: 'bad',
                          } as const satisfies Record<string, Tone>
                        )[d.status]
                      }
                      status={d.status}
                    >
                      {`${d.receiver}: ${d.status}`}
                    </Badge>
                  ))}
                </li>
              ))}
            </ul>
          )
        }
      </QueryView>
    </section>
  );
}
