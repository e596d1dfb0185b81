import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandUsageError, enumOption, integerOption, parseCommandLine } from './args.js';
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
    const line = parseRun('--url', 'http://c:8080', 'hosts', '--json', '--token', 't');
    assert.equal(line.command.name, 'hosts');
    assert.deepEqual(line.globals, {
      url: 'http://c:8080',
      token: 't',
      context: undefined,
      json: true,
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

describe('option helpers', () => {
  const input = { args: [], options: { mode: 'monitor', bad: 'x', limit: '20', huge: '9999' } };

  it('accepts enum values and rejects others', () => {
    assert.equal(enumOption(input, 'mode', ['managed', 'monitor']), 'monitor');
    assert.equal(enumOption(input, 'missing', ['managed', 'monitor']), undefined);
    assert.throws(() => enumOption(input, 'bad', ['managed', 'monitor']), UsageError);
  });

  it('accepts whole numbers in range', () => {
    assert.equal(integerOption(input, 'limit', { min: 1, max: 500 }), 20);
    assert.throws(() => integerOption(input, 'huge', { min: 1, max: 500 }), /from 1 to 500/);
    assert.throws(() => integerOption(input, 'bad', { min: 1, max: 500 }), UsageError);
  });
});
