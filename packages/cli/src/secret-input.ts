import { createInterface } from 'node:readline/promises';
import { Writable, type Readable } from 'node:stream';
import type { SecretInput } from './command.js';
import { CliError } from './errors.js';

/** Where standard input comes from; `open` is only called when a command reads it. */
export interface InputSource {
  /** Whether it is a terminal (`isatty(0)`), known without opening the stream. */
  isTerminal: boolean;
  open(): Readable;
  /** Where the prompt goes (standard error, so standard output stays clean). */
  prompts: { write(text: string): unknown };
}

/**
 * Standard input for reading a secret: to its end when piped, or one line typed at the
 * terminal with echo off (the line editor writes into a sink; only the prompt reaches
 * `prompts`). Ctrl-C at the prompt cancels with `token_unreadable`. The stream is opened on
 * first use, so commands that read nothing never touch it.
 */
export function secretInput(source: InputSource): SecretInput {
  const { prompts } = source;
  return {
    isTerminal: source.isTerminal,
    async readAll() {
      const input = source.open();
      const chunks: Buffer[] = [];
      for await (const chunk of input) {
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      }
      return Buffer.concat(chunks).toString('utf8');
    },
    async readHidden(prompt) {
      const input = source.open();
      prompts.write(prompt);
      const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
      const editor = createInterface({ input, output: sink, terminal: true });
      const cancel = new AbortController();
      editor.on('SIGINT', () => cancel.abort());
      try {
        return await editor.question('', { signal: cancel.signal });
      } catch (error) {
        if (cancel.signal.aborted)
          throw new CliError('token_unreadable', 'cancelled at the prompt');
        throw error;
      } finally {
        editor.close();
        prompts.write('\n');
      }
    },
  };
}
