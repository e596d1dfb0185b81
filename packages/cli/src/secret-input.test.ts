import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { CliError } from './errors.js';
import { secretInput } from './secret-input.js';

/** A stream standing in for standard input, and what was written as prompts. */
function source(isTerminal: boolean) {
  const input = new PassThrough();
  const prompts: string[] = [];
  let opened = 0;
  const stdin = secretInput({
    isTerminal,
    open: () => {
      opened++;
      return input;
    },
    prompts: { write: (text: string) => prompts.push(text) },
  });
  return { input, prompts, stdin, opened: () => opened };
}

describe('secretInput', () => {
  it('opens standard input only when a command reads it', () => {
    const { stdin, opened } = source(false);
    assert.equal(stdin.isTerminal, false);
    assert.equal(opened(), 0);
  });

  it('reads a pipe to its end', async () => {
    const { input, stdin } = source(false);
    const reading = stdin.readAll();
    input.write('tok');
    input.end('en\n');
    assert.equal(await reading, 'token\n');
  });

  it('reads one typed line without echoing it: only the prompt is written', async () => {
    const { input, prompts, stdin } = source(true);
    const reading = stdin.readHidden('Token: ');
    input.write('s3cr');
    input.write('et\r');
    assert.equal(await reading, 's3cret');
    assert.deepEqual(prompts, ['Token: ', '\n']);
  });

  it('asks again on the same terminal: a password, then a code', async () => {
    const { input, prompts, stdin } = source(true);
    const first = stdin.readHidden('Password: ');
    input.write('correct horse\r');
    assert.equal(await first, 'correct horse');
    const second = stdin.readHidden('Code: ');
    input.write('123456\r');
    assert.equal(await second, '123456');
    assert.deepEqual(prompts, ['Password: ', '\n', 'Code: ', '\n']);
  });

  it('cancels on Ctrl-C at the prompt', async () => {
    const { input, stdin } = source(true);
    const reading = stdin.readHidden('Token: ');
    input.write('abc\x03');
    await assert.rejects(
      reading,
      (error: unknown) => error instanceof CliError && error.code === 'token_unreadable',
    );
  });
});
