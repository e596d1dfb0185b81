import { readFile } from 'node:fs/promises';
import type { SecretInput } from './command.js';
import { CliError } from './errors.js';

/**
 * The first lines of piped standard input, read once to its end: `names` says what each
 * line holds (`['current password', 'new password']`), for the error when one is missing.
 * Only the line ending is cut: a password may begin or end with a space.
 */
export async function pipedLines(stdin: SecretInput, names: readonly string[]): Promise<string[]> {
  const lines = (await stdin.readAll()).split('\n').map((line) => line.replace(/\r$/, ''));
  return names.map((name, index) => {
    const line = lines[index];
    if (line === undefined || line === '') {
      const layout = names.map((n, i) => `line ${i + 1}: ${n}`).join(', ');
      throw new CliError(
        'input_missing',
        `standard input holds no ${name} (it is read as ${layout})`,
      );
    }
    return line;
  });
}

/** One secret: typed at a hidden prompt at a terminal, else the first line of piped input. */
export async function readSecret(
  stdin: SecretInput,
  prompt: string,
  name: string,
): Promise<string> {
  if (stdin.isTerminal) return stdin.readHidden(prompt);
  const [line = ''] = await pipedLines(stdin, [name]);
  return line;
}

/** A new password typed twice at hidden prompts; the two must match. */
export async function typeNewPassword(stdin: SecretInput, prompt: string): Promise<string> {
  const first = await stdin.readHidden(`${prompt} (at least 12 characters; hidden): `);
  const again = await stdin.readHidden('The same again: ');
  if (first !== again) {
    throw new CliError('passwords_differ', 'the two passwords differ; nothing was changed');
  }
  return first;
}

/** A secret kept in a file (a setup token): its content without surrounding whitespace. */
export async function readSecretFile(file: string, name: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new CliError('token_unreadable', `cannot read the ${name} from ${file} (${reason})`);
  }
  const secret = text.trim();
  if (secret === '') throw new CliError('token_unreadable', `${file} holds no ${name}`);
  return secret;
}
