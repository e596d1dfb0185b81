import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS } from './commands.js';
import { contextAddCommand } from './context.command.js';
import { commandHelp, globalHelp, usageLine } from './help.js';
import { rebootCommand } from './host-actions.command.js';
import { loginCommand } from './login.command.js';
import { notificationsCommand } from './notifications.command.js';

describe('help', () => {
  const text = globalHelp(COMMANDS);

  it('lists the context commands, notifications and --utc', () => {
    assert.match(text, /^ {2}context \[list\]\s+List the controller contexts/m);
    assert.match(text, /^ {2}context use NAME\s+Make a context the current one$/m);
    assert.match(text, /^ {2}context add NAME --url URL\s+Add or replace a context/m);
    assert.match(text, /^ {2}context remove NAME\s+Remove a context and its token$/m);
    assert.match(text, /^ {2}notifications\s+List recent notifications/m);
    assert.match(text, /^ {2}--utc\s+show times in UTC \(or FLOTILLA_UTC=1\)/m);
    assert.match(text, /^Usage: flotilla \[--url URL\] .*\[--utc\] COMMAND/m);
  });

  it('shows a required option without brackets and says a local command needs no controller', () => {
    assert.equal(
      usageLine(contextAddCommand),
      'flotilla context add NAME --url URL [--token-file FILE] [--use]',
    );
    const help = commandHelp(contextAddCommand);
    assert.match(help, /never from the command\nline/);
    assert.match(help, /^Global options: --json \(no controller is contacted\)\.$/m);
    assert.match(commandHelp(notificationsCommand), /^Global options: .*--utc/m);
  });

  it('documents logging in and --totp, and shows no token on the command line', () => {
    assert.match(text, /^ {2}setup\s+Create the first admin of a new controller/m);
    assert.match(text, /^ {2}login\s+Log in: asks for your password and keeps an API token/m);
    assert.match(text, /^ {2}token create NAME\s+Create an API token/m);
    assert.match(text, /^ {2}--totp CODE\s+TOTP code for a destructive action \(or FLOTILLA_TOTP/m);
    assert.match(text, /Automation passes a token in FLOTILLA_TOKEN/);
    assert.doesNotMatch(text, /--token(?![-\w])/);
    assert.match(
      commandHelp(loginCommand),
      /^Global options: --json, --utc \(the token is kept in the contexts file\)\.$/m,
    );
    const reboot = commandHelp(rebootCommand);
    assert.match(reboot, /^Usage: flotilla reboot HOST --confirm HOST$/m);
    assert.match(reboot, /"flotilla reboot web1 --confirm web1"/);
    assert.match(reboot, /^Global options: --url, --context, --totp, --json, --utc/m);
  });
});
