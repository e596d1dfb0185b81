import { useWaves } from '../approvals/approval.queries.js';
import { Empty, QueryView } from '../../components/states.js';
import { Badge, type Tone } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { formatDuration } from '../../format/quantity.js';
import { useNotifications } from './settings.queries.js';

/** Waves, deploy windows and notification targets: all from the config file, read-only here. */
export function FleetRulesSection() {
  const waves = useWaves();
  const notifications = useNotifications();
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
        Set per host in the config file (<code>hosts.NAME.windows</code>). The API does not list
        them yet; a deployment held by a closed window says so on its page.
      </p>
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
