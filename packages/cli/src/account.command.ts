import { renderMe, renderRecoveryCodes, renderTotpEnrollment } from './account.view.js';
import { printJson, type Command, type CommandContext } from './command.js';
import { pipedLines, readSecret, typeNewPassword } from './credentials-input.js';

/** `flotilla whoami`: who the CLI acts as, with which role, and how. */
export const whoamiCommand: Command = {
  name: 'whoami',
  args: [],
  summary: 'Show who you are logged in as: user, role, how (token and its scope), TOTP',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const me = await context.client.call('me');
      if (context.json) printJson(context, me);
      else context.out(renderMe(me, context.client.url));
      return 0;
    };
  },
};

/** `flotilla password`: change your own password. */
export const passwordCommand: Command = {
  name: 'password',
  args: [],
  summary: 'Change your password (your browser sessions end; API tokens keep working)',
  description:
    'Typed at hidden prompts: the current password, then the new one twice. When standard\n' +
    'input is piped, it holds the current password on its first line and the new one on its\n' +
    'second.',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      let current: string;
      let password: string;
      if (context.stdin.isTerminal) {
        current = await context.stdin.readHidden('Current password (hidden): ');
        password = await typeNewPassword(context.stdin, 'New password');
      } else {
        [current = '', password = ''] = await pipedLines(context.stdin, [
          'current password',
          'new password',
        ]);
      }
      const user = await context.client.call('changePassword', { body: { current, password } });
      if (context.json) printJson(context, user);
      else
        context.out(
          `Password changed for ${user.username}; browser sessions were ended (API tokens keep working).`,
        );
      return 0;
    };
  },
};

/** `flotilla totp enable`: TOTP on, with an authenticator app, and recovery codes. */
export const totpEnableCommand: Command = {
  name: 'totp enable',
  args: [],
  summary:
    'Turn on TOTP: add the secret to an authenticator app, confirm a code, get recovery codes',
  description:
    'Shows an otpauth:// URI (for a QR code) and the secret to type in by hand, then asks for a\n' +
    'code from the app; once it matches, TOTP is on and ten recovery codes are shown, once.\n' +
    'Without a terminal it shows the secret and stops: confirm with flotilla totp confirm CODE.\n' +
    'With TOTP on, logging in and destructive actions (reboot, rollback, policy auto, user\n' +
    'changes, host removal) ask for a current code.',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const enrollment = await context.client.call('startTotp');
      if (!context.stdin.isTerminal) {
        if (context.json) printJson(context, enrollment);
        else {
          context.out(renderTotpEnrollment(enrollment));
          context.out('\nThen confirm with a code from the app: flotilla totp confirm CODE');
        }
        return 0;
      }
      // With --json only the final answer goes to standard output; the person still sees this.
      if (context.json) context.err(`${renderTotpEnrollment(enrollment)}\n`);
      else context.out(`${renderTotpEnrollment(enrollment)}\n`);
      const code = await context.stdin.readHidden('Code from the app (hidden): ');
      return confirm(context, code);
    };
  },
};

/** `flotilla totp confirm CODE`: finishes an enrollment started without a terminal. */
export const totpConfirmCommand: Command = {
  name: 'totp confirm',
  args: ['CODE'],
  summary: 'Finish turning on TOTP with a code from the app; shows the recovery codes once',
  options: {},
  needsToken: true,
  prepare(input) {
    const [code = ''] = input.args;
    return (context) => confirm(context, code);
  },
};

/** `flotilla totp disable`: TOTP off, with a current code. */
export const totpDisableCommand: Command = {
  name: 'totp disable',
  args: [],
  summary: 'Turn off TOTP (asks for a current code or a recovery code)',
  description:
    'The code comes from --totp (or FLOTILLA_TOTP), else a prompt at a terminal, else the\n' +
    'first line of piped standard input. The recovery codes stop working too.',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const code =
        context.totp ??
        (await readSecret(
          context.stdin,
          'Code from the app, or a recovery code (hidden): ',
          'code',
        ));
      const user = await context.client.call('disableTotp', { body: { code: code.trim() } });
      if (context.json) printJson(context, user);
      else context.out(`TOTP is off for ${user.username}; its recovery codes no longer work.`);
      return 0;
    };
  },
};

async function confirm(context: CommandContext, code: string): Promise<number> {
  const recovery = await context.client.call('confirmTotp', { body: { code: code.trim() } });
  if (context.json) printJson(context, recovery);
  else context.out(renderRecoveryCodes(recovery));
  return 0;
}
