import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostName } from '@flotilla/protocol';
import {
  CommandUsageError,
  enumOption,
  integerOption,
  listOption,
  parseCommandLine,
} from './args.js';
import { COMMANDS } from './commands.js';
import { UsageError } from './errors.js';

function parse(...argv: string[]) {
  return parseCommandLine(argv, COMMANDS);
}

function parseRun(...argv: string[]) {
  const line = parse(...argv);
  assert.equal(line.kind, 'run');
  return line;
}

describe('parseCommandLine', () => {
  it('takes global options before and after the command', () => {
    const line = parseRun(
      '--url',
      'http://c:8080',
      'hosts',
      '--json',
      '--token',
      't',
      '--totp',
      '123456',
    );
    assert.equal(line.command.name, 'hosts');
    assert.deepEqual(line.globals, {
      url: 'http://c:8080',
      token: 't',
      context: undefined,
      totp: '123456',
      json: true,
      utc: false,
    });
  });

  it('prefers the longer command name', () => {
    const add = parseRun('host', 'add', 'web1', '--mode', 'monitor');
    assert.equal(add.command.name, 'host add');
    assert.deepEqual(add.input.args, ['web1']);
    assert.equal(add.input.options.mode, 'monitor');
    const show = parseRun('host', 'web1');
    assert.equal(show.command.name, 'host');
    assert.deepEqual(show.input.args, ['web1']);
  });

  it('reads command options and short flags', () => {
    const line = parseRun('deploy', 'web1', '/nix/store/x', '--action', 'boot', '-f');
    assert.deepEqual(line.input.args, ['web1', '/nix/store/x']);
    assert.equal(line.input.options.action, 'boot');
    assert.equal(line.input.options.follow, true);
  });

  it('answers help and version', () => {
    assert.deepEqual(parse(), { kind: 'help', command: undefined });
    assert.deepEqual(parse('--help'), { kind: 'help', command: undefined });
    assert.deepEqual(parse('--version'), { kind: 'version' });
    const help = parse('deploy', '--help');
    assert.equal(help.kind === 'help' && help.command?.name, 'deploy');
    const helpCommand = parse('help', 'host', 'add');
    assert.equal(helpCommand.kind === 'help' && helpCommand.command?.name, 'host add');
  });

  it('rejects unknown commands, options and wrong argument counts', () => {
    assert.throws(() => parse('frob'), /unknown command "frob"/);
    assert.throws(
      () => parse('hosts', '--bogus'),
      (error: unknown) => {
        assert.ok(error instanceof CommandUsageError);
        assert.equal(error.command?.name, 'hosts');
        assert.match(error.message, /--bogus/);
        return true;
      },
    );
    assert.throws(() => parse('deploy', 'web1'), /missing STORE_PATH/);
    assert.throws(() => parse('host', 'a', 'b'), /unexpected argument "b"/);
    assert.throws(() => parse('hosts', '--url'), CommandUsageError);
  });
});

describe('approve, reject and policy arguments', () => {
  /** Parses and prepares, as `run` does before it connects. */
  function prepare(...argv: string[]) {
    const line = parseRun(...argv);
    return () => line.command.prepare(line.input);
  }

  it('reads the approve flags', () => {
    const line = parseRun(
      'approve',
      'rvmwy8in5bf48d3d',
      '--hosts',
      'web1, web2',
      '--wave',
      'canary',
      '--comment',
      'ship it',
      '--force',
      '--reason',
      'out of window on purpose',
      '--allow-superseded',
    );
    assert.deepEqual(line.input.args, ['rvmwy8in5bf48d3d']);
    assert.deepEqual(line.input.options, {
      comment: 'ship it',
      hosts: 'web1, web2',
      wave: 'canary',
      force: true,
      reason: 'out of window on purpose',
      'allow-superseded': true,
    });
    assert.doesNotThrow(() => line.command.prepare(line.input));
  });

  it('refuses a bad target, bad host names and narrowing a single deployment', () => {
    assert.throws(prepare('approve', 'web1'), /TARGET must be a deployment id/);
    assert.throws(prepare('approve', 'rv1', '--hosts', 'Web_1'), /--hosts: "Web_1"/);
    assert.throws(prepare('reject', 'd1', '--hosts', 'web1'), /need a revision id/);
    assert.throws(prepare('approve', 'rmwy8sihi3adf1e', '--wave', 'canary'), /not a release id/);
    assert.doesNotThrow(prepare('reject', 'rv1', '--wave', 'canary', '--comment', 'no'));
  });

  it('keeps --force to approve, and wants a reason with it', () => {
    assert.throws(() => parse('reject', 'd1', '--force'), CommandUsageError);
    assert.throws(prepare('approve', 'd1', '--force'), /--force needs a --reason/);
    assert.throws(prepare('approve', 'd1', '--reason', 'x'), /--reason goes with --force/);
  });

  it('takes zero, one or two policy arguments and checks the policy', () => {
    assert.deepEqual(parseRun('policy').input.args, []);
    assert.deepEqual(parseRun('policy', 'web1').input.args, ['web1']);
    assert.deepEqual(parseRun('policy', 'web1', 'auto', '--reason', 'r').input.args, [
      'web1',
      'auto',
    ]);
    assert.throws(() => parse('policy', 'web1', 'auto', 'now'), /unexpected argument "now"/);
    assert.throws(prepare('policy', 'web1', 'yolo'), /POLICY must be one of manual, auto/);
    assert.throws(
      prepare('policy', 'web1', '--reason', 'r'),
      /--reason and --force go with a new policy/,
    );
    assert.doesNotThrow(prepare('policy', 'web1', 'monitor'));
  });
});

describe('option helpers', () => {
  const input = { args: [], options: { mode: 'monitor', bad: 'x', limit: '20', huge: '9999' } };

  it('accepts enum values and rejects others', () => {
    assert.equal(enumOption(input, 'mode', ['managed', 'monitor']), 'monitor');
    assert.equal(enumOption(input, 'missing', ['managed', 'monitor']), undefined);
    assert.throws(() => enumOption(input, 'bad', ['managed', 'monitor']), UsageError);
  });

  it('splits comma-separated lists and checks each item', () => {
    const list = (hosts: string) => listOption({ args: [], options: { hosts } }, 'hosts', HostName);
    assert.deepEqual(list('web1,,db1 '), ['web1', 'db1']);
    assert.equal(listOption(input, 'hosts', HostName), undefined);
    assert.throws(() => list(' , '), /--hosts needs at least one name/);
    assert.throws(() => list('web1,DB'), /--hosts: "DB" is not a valid name/);
  });

  it('accepts whole numbers in range', () => {
    assert.equal(integerOption(input, 'limit', { min: 1, max: 500 }), 20);
    assert.throws(() => integerOption(input, 'huge', { min: 1, max: 500 }), /from 1 to 500/);
    assert.throws(() => integerOption(input, 'bad', { min: 1, max: 500 }), UsageError);
  });
});
