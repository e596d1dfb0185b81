import { formatBytes } from '../../format/quantity.js';

/**
 * What will change on a host. The agent prepares each waiting deployment before anyone
 * approves it: the closure difference against what the host runs (`nix store
 * diff-closures`) and what activation will do (`switch-to-configuration dry-activate`); the
 * approval carries that plan (`plan`, null when the controller has none for it).
 */

interface PackageChangeView {
  name: string;
  from: string[];
  to: string[];
  sizeDelta: number | null;
}

/** The fields of a deployment's plan this view shows. */
export interface ChangePlanView {
  state: 'pending' | 'ready' | 'failed' | 'unavailable';
  reason: string | null;
  plan: {
    closure: {
      added: PackageChangeView[];
      removed: PackageChangeView[];
      changed: PackageChangeView[];
      truncated: boolean;
      sizeDelta: number | null;
    } | null;
    activation: {
      stop: string[];
      start: string[];
      restart: string[];
      reload: string[];
      skip: string[];
      restartSystemd: boolean;
    } | null;
    reboot: { required: boolean | null; changed: string[] };
  } | null;
}

/** One host's "what will change": packages and size, units, reboot. */
export function ChangePlan({ host, plan }: { host: string; plan: ChangePlanView | null }) {
  if (plan === null) {
    return (
      <p className="muted small" data-testid="change-plan-missing">
        What will change on {host} (packages, units, reboot) is not known for this deployment.
      </p>
    );
  }
  if (plan.state !== 'ready' || plan.plan === null) {
    const words = {
      pending: 'The agent is preparing what will change…',
      failed: 'The agent could not tell what will change',
      unavailable: 'What will change is not known',
      ready: 'What will change is not known',
    }[plan.state];
    return (
      <p className="muted small">
        {words}
        {plan.reason && <>: {plan.reason}</>}
      </p>
    );
  }
  const { closure, activation, reboot } = plan.plan;
  return (
    <div className="change-plan" data-testid="change-plan">
      {reboot.required && (
        <p className="warn">
          <strong>Reboot needed</strong>: {reboot.changed.join(', ')} changed.
        </p>
      )}
      {closure && (
        <details>
          <summary>
            Packages: {closure.added.length} added, {closure.removed.length} removed,{' '}
            {closure.changed.length} changed; size {formatBytes(closure.sizeDelta, true)}
          </summary>
          <PackageList title="Added" changes={closure.added} />
          <PackageList title="Removed" changes={closure.removed} />
          <PackageList title="Changed" changes={closure.changed} />
          {closure.truncated && <p className="muted">The list was cut.</p>}
        </details>
      )}
      {activation && (
        <ul className="unit-changes">
          <UnitLine verb="stop" units={activation.stop} />
          <UnitLine verb="start" units={activation.start} />
          <UnitLine verb="restart" units={activation.restart} />
          <UnitLine verb="reload" units={activation.reload} />
          <UnitLine verb="leave running (changed)" units={activation.skip} />
          {activation.restartSystemd && <li>restarts systemd</li>}
        </ul>
      )}
    </div>
  );
}

function PackageList({ title, changes }: { title: string; changes: PackageChangeView[] }) {
  if (changes.length === 0) return null;
  return (
    <>
      <h4>{title}</h4>
      <ul className="package-changes">
        {changes.map((c) => (
          <li key={c.name}>
            <span className="mono">{c.name}</span> {c.from.join(', ') || '∅'} →{' '}
            {c.to.join(', ') || '∅'}
            {c.sizeDelta !== null && (
              <span className="muted"> {formatBytes(c.sizeDelta, true)}</span>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

function UnitLine({ verb, units }: { verb: string; units: string[] }) {
  if (units.length === 0) return null;
  return (
    <li>
      would {verb}: <span className="mono">{units.join(', ')}</span>
    </li>
  );
}
