import type { Host } from '@flotilla/protocol';

/** Why a host needs a person's attention, in a few words each; empty when it does not. */
export function attentionOf(host: Host): string[] {
  const reasons: string[] = [];
  if (host.status === 'offline') reasons.push('offline');
  if (host.status === 'never_seen') reasons.push('never connected');
  const failed = host.facts?.failedUnits?.length ?? 0;
  if (failed > 0) reasons.push(`${failed} failed unit${failed === 1 ? '' : 's'}`);
  if (host.facts?.rebootRequired) reasons.push('reboot required');
  if (host.sync?.state === 'drifted') reasons.push('drifted');
  if (host.agentOutdated) reasons.push('agent outdated');
  return reasons;
}
