import type { Me, RecoveryCodes, TotpEnrollment } from '@flotilla/protocol';
import { keyValues } from './format.js';

const VIA: Record<Me['via'], string> = {
  token: 'an API token',
  session: 'a browser session',
  proxy: 'the trusted proxy',
};

/** `flotilla whoami`: the user, the role requests act with, and how they are authenticated. */
export function renderMe(me: Me, url: string): string {
  const role =
    me.role === me.user.role
      ? me.role
      : `${me.user.role} (this token's ${me.scope ?? '?'} scope acts as ${me.role})`;
  const via = me.scope === null ? VIA[me.via] : `${VIA[me.via]}, scope ${me.scope}`;
  return keyValues([
    ['User', me.user.username],
    ['Role', role],
    ['Via', via],
    ['TOTP', me.user.totpEnabled ? 'on' : 'off (turn it on with: flotilla totp enable)'],
    ['Controller', url],
  ]);
}

/** The start of TOTP enrollment: the URI for a QR code and the secret to type in by hand. */
export function renderTotpEnrollment(enrollment: TotpEnrollment): string {
  return [
    'Add this account to your authenticator app: make a QR code of this URI, or paste it,',
    '',
    `  ${enrollment.uri}`,
    '',
    'or type in the secret by hand (the spaces are only for reading):',
    '',
    `  ${groups(enrollment.secret, 4)}`,
  ].join('\n');
}

/** The recovery codes, shown once: each works once in place of a code from the app. */
export function renderRecoveryCodes(recovery: RecoveryCodes): string {
  const rows: string[] = [];
  for (let i = 0; i < recovery.codes.length; i += 2) {
    rows.push(`  ${recovery.codes.slice(i, i + 2).join('  ')}`);
  }
  return [
    'TOTP is on. Logins and destructive actions now ask for a code from the app.',
    '',
    'Recovery codes (shown only this once; each works once instead of a code from the app,',
    'so keep them somewhere safe, away from the device):',
    '',
    ...rows,
  ].join('\n');
}

function groups(text: string, size: number): string {
  return (text.match(new RegExp(`.{1,${size}}`, 'g')) ?? []).join(' ');
}
