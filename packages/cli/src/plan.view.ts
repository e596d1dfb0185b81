import type {
  ActivationChanges,
  ActivationPlan,
  DeploymentPlan,
  PackageChange,
} from '@flotilla/protocol';
import { columns, formatBytes, formatDuration, keyValues, type TimeFormat } from './format.js';

/** Why there is no plan, in a few words, by the code the controller stored. */
const UNAVAILABLE: Record<string, string> = {
  prefetch_disabled: 'prefetch off',
  agent_unsupported: 'agent too old',
  deployment_started: 'started first',
  deployment_ended: 'ended first',
};

/** A signed size: "+12.4 MiB", "−40.3 KiB", "±0 B". */
export function signedBytes(bytes: number): string {
  if (bytes === 0) return '±0 B';
  return `${bytes > 0 ? '+' : '−'}${formatBytes(Math.abs(bytes))}`;
}

/** `+3 −1 ~2 pkgs, +12.4 MiB`: packages added, removed, changed in version, and the size. */
function packagesSummary(plan: ActivationPlan): string {
  const closure = plan.closure;
  if (closure === null) return 'nothing to compare with';
  const counts = [
    closure.added.length > 0 ? `+${closure.added.length}` : '',
    closure.removed.length > 0 ? `−${closure.removed.length}` : '',
    closure.changed.length > 0 ? `~${closure.changed.length}` : '',
  ].filter(Boolean);
  const packages = counts.length === 0 ? 'no package changes' : `${counts.join(' ')} pkgs`;
  return closure.sizeDelta === null ? packages : `${packages}, ${signedBytes(closure.sizeDelta)}`;
}

/** `restart 2 units`, `stop 1, start 2 units`, `no unit changes`. */
function unitsSummary(activation: ActivationChanges | null): string {
  if (activation === null) return 'activates at the next boot';
  const verbs = (['stop', 'start', 'restart', 'reload'] as const)
    .filter((verb) => activation[verb].length > 0)
    .map((verb) => `${verb} ${activation[verb].length}`);
  const parts = verbs.length === 0 ? ['no unit changes'] : [`${verbs.join(', ')} units`];
  if (activation.restartSystemd) parts.push('restart systemd');
  return parts.join(', ');
}

/**
 * One line for a table: `+3 −1 ~2 pkgs, +12.4 MiB; restart 2 units; reboot` when the plan
 * is ready, else where it stands (`preparing`, `failed: fetch_failed`, `no plan: prefetch off`).
 */
export function planSummary(plan: DeploymentPlan | null): string {
  if (plan === null) return '-';
  switch (plan.state) {
    case 'pending':
      return plan.requestedAt === null ? 'plan: waiting for the host' : 'plan: preparing';
    case 'failed':
      return `plan failed: ${plan.code ?? 'unknown'}`;
    case 'unavailable':
      return `no plan: ${UNAVAILABLE[plan.code ?? ''] ?? 'none made'}`;
    case 'ready': {
      if (plan.plan === null) return 'plan: unreadable';
      const parts = [packagesSummary(plan.plan), unitsSummary(plan.plan.activation)];
      if (plan.plan.reboot.required === true) parts.push('reboot');
      return parts.join('; ');
    }
  }
}

function versions(list: readonly string[]): string {
  return list.map((version) => (version === '' ? '(no version)' : version)).join(', ');
}

function packageRows(sign: string, changes: readonly PackageChange[]): string[][] {
  return changes.map((p) => [
    `  ${sign} ${p.name}`,
    sign === '+'
      ? versions(p.to)
      : sign === '−'
        ? versions(p.from)
        : `${versions(p.from)} → ${versions(p.to)}`,
    p.sizeDelta === null ? '' : signedBytes(p.sizeDelta),
  ]);
}

function renderClosure(plan: ActivationPlan): string[] {
  const closure = plan.closure;
  if (closure === null) return ['Packages: the host runs no system to compare with'];
  const total =
    closure.closureSize === null ? '' : ` (closure ${formatBytes(closure.closureSize)})`;
  const lines = [`Packages: ${packagesSummary(plan)}${total}`];
  const rows = [
    ...packageRows('+', closure.added),
    ...packageRows('−', closure.removed),
    ...packageRows('~', closure.changed),
    ...closure.resized.map((p) => [
      `  = ${p.name}`,
      'same version',
      p.sizeDelta === null ? '' : signedBytes(p.sizeDelta),
    ]),
  ];
  if (rows.length > 0) lines.push(columns(rows));
  if (closure.truncated) lines.push('  (more packages changed than the agent listed)');
  return lines;
}

function renderActivation(activation: ActivationChanges | null): string[] {
  if (activation === null) {
    return ['Activation: none now (action boot: the new system starts at the next boot)'];
  }
  const lines = [`Activation (switch-to-configuration dry-activate): ${unitsSummary(activation)}`];
  const rows = [
    ['stop', activation.stop],
    ['start', activation.start],
    ['restart', activation.restart],
    ['reload', activation.reload],
    ['keep running (changed)', activation.skip],
  ] as const;
  const present = rows.filter(([, units]) => units.length > 0);
  if (present.length > 0) {
    lines.push(columns(present.map(([verb, units]) => [`  ${verb}`, units.join(', ')])));
  }
  if (activation.restartSystemd) lines.push('  systemd itself restarts');
  for (const line of activation.other) lines.push(`  | ${line}`);
  return lines;
}

function renderReboot(plan: ActivationPlan): string {
  const { reboot } = plan;
  if (reboot.required === null) return 'Reboot: unknown (no booted system to compare with)';
  if (!reboot.required) return 'Reboot: not needed (kernel and initrd stay)';
  return `Reboot: needed (${reboot.changed.join(', ')} differ from the booted system's)`;
}

/** A deployment's plan in full: where it stands, then packages, activation and reboot. */
export function renderPlan(plan: DeploymentPlan, time: TimeFormat): string {
  const head = `Plan of deployment ${plan.deploymentId} on ${plan.host}: ${plan.state}`;
  if (plan.state !== 'ready' || plan.plan === null) {
    const code = plan.code === null ? '' : ` (${plan.code})`;
    const asked = plan.requestedAt === null ? '' : `\nAsked: ${time.stamp(plan.requestedAt)}`;
    return `${head}${plan.reason === null ? '' : `: ${plan.reason}`}${code}${asked}`;
  }
  const ready = plan.plan;
  const fetched = ready.fetched
    ? `closure fetched ahead in ${formatDuration(ready.timings.fetchMs / 1000)}`
    : 'closure was in the store already';
  return [
    head,
    keyValues([
      ['Prepared', `${time.stamp(ready.preparedAt)}, ${fetched}`],
      ['Compared with', ready.currentSystem ?? 'nothing (the host runs no system)'],
    ]),
    ...renderClosure(ready),
    ...renderActivation(ready.activation),
    renderReboot(ready),
  ].join('\n');
}
