import type { BuildStatus, DeploymentStatus } from '@flotilla/protocol';

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

const DEPLOYMENT_TONES: Record<DeploymentStatus, Tone> = {
  awaiting_approval: 'warn',
  approved: 'info',
  queued: 'info',
  activating: 'info',
  confirming: 'info',
  succeeded: 'ok',
  failed: 'bad',
  rolled_back: 'bad',
  rejected: 'muted',
  superseded: 'muted',
  cancelled: 'muted',
  expired: 'muted',
};

const BUILD_TONES: Record<BuildStatus, Tone> = {
  queued: 'info',
  running: 'info',
  succeeded: 'ok',
  failed: 'bad',
  cancelled: 'muted',
};

/** A status as a coloured word (never colour alone: the word is always there). */
export function Badge({
  tone,
  status,
  children,
}: {
  tone: Tone;
  /** The machine's word for it, for tests and styles (`data-status`). */
  status?: string;
  children: string;
}) {
  return (
    <span className={`badge badge-${tone}`} data-status={status}>
      {children}
    </span>
  );
}

export function DeploymentStatusBadge({ status }: { status: DeploymentStatus }) {
  return (
    <Badge tone={DEPLOYMENT_TONES[status]} status={status}>
      {status.replaceAll('_', ' ')}
    </Badge>
  );
}

export function BuildStatusBadge({ status }: { status: BuildStatus }) {
  return (
    <Badge tone={BUILD_TONES[status]} status={status}>
      {status}
    </Badge>
  );
}
