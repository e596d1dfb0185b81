import type { HostEvaluationError, NixErrorLocation } from '@flotilla/protocol';

/**
 * Keeps the part of Nix's stderr that explains an error, without progress noise. Text
 * longer than `maxChars` keeps its beginning and, larger, its end: Nix 2.13+ prints the
 * trace first and the innermost error, the one that says what is wrong, last.
 */
export function nixErrorText(stderr: string, maxChars = 16_000): string {
  const lines = stderr
    .split('\n')
    .filter((line) => !/^(copying|building|these \d+|warning: Git tree)/.test(line));
  const start = lines.findIndex((line) => line.startsWith('error'));
  const text = (start >= 0 ? lines.slice(start) : lines).join('\n').trim();
  if (text.length <= maxChars) return text;
  const head = Math.floor(maxChars / 4);
  const tail = maxChars - head;
  const omitted = text.length - head - tail;
  return `${text.slice(0, head)}\n[… ${omitted} characters of the error text left out …]\n${text.slice(-tail)}`;
}

/** A line that starts an error: `error: message` (Nix 2.8) or a bare `error:` (2.13+). */
const ERROR_LINE = /^\s*error:\s?(.*)$/;
/**
 * A trace frame (2.13+ prints them above the error, 2.8 below it with --show-trace): `… `.
 * Written as an escape so the bundled controller stays ASCII (a single other character
 * makes Node read and compile the whole bundle as a two-byte string).
 */
const FRAME_LINE = /^\s*\u2026 /;
/** `at /nix/store/…-source/hosts/gpc0.nix:1:30:`; Nix 2.8 and newer both end with a colon. */
const AT_LINE = /^\s*at (.+?):(\d+):(\d+):?\s*$/;
/** A copy of a flake's source tree (the repository itself or one of its inputs). */
const STORE_SOURCE = /\/nix\/store\/[0-9a-z]{32}-source(?:\/[^\s'"`:,)]*)?/;

interface Position extends NixErrorLocation {
  /** Inside the evaluated flake's own source tree. */
  inFlake: boolean;
}

/**
 * Reads the message and the location out of a Nix evaluation error, in both shapes:
 *
 * - Nix 2.8: `error: <message>`, a blank line, `at <file>:<line>:<column>:`, a code excerpt
 *   (and, with --show-trace, frames *below* it).
 * - Nix 2.13 and later: a bare `error:`, the trace frames (`… while evaluating …` each with
 *   its own `at`), possibly `(stack trace truncated; …)`, then the innermost
 *   `error: <message>` followed directly by its `at` line.
 *
 * `sourceRoot` is the store path of the flake's source tree (`sourceInfo.outPath`): paths
 * under it become relative (`hosts/gpc0.nix`); other store paths (inputs) stay absolute.
 * Without it, every `/nix/store/<hash>-source/` path is taken as the flake's own.
 *
 * The location is the error's own position when that is in the flake; otherwise the
 * nearest position in the flake (one the message names, e.g. NixOS's "In
 * `/nix/store/…-source/hosts/gpc0.nix'", or the innermost trace frame there); otherwise
 * the error's own position wherever it is; otherwise null.
 */
export function parseNixError(text: string, sourceRoot?: string | null): HostEvaluationError {
  const lines = text.split('\n');
  const errorIndex = lines.findLastIndex((line) => (ERROR_LINE.exec(line)?.[1] ?? '') !== '');
  if (errorIndex < 0) {
    const first = lines.map((line) => line.trim()).find((line) => line !== '') ?? '';
    return { message: first || 'evaluation failed', location: null };
  }
  const message = (ERROR_LINE.exec(lines[errorIndex] ?? '')?.[1] ?? '').trim();
  const own = ownPosition(lines, errorIndex, sourceRoot);
  if (own?.inFlake) return { message, location: strip(own) };
  const named = namedInMessage(lines, errorIndex, sourceRoot);
  if (named) return { message, location: strip(named) };
  const frame = nearestFrameInFlake(lines, errorIndex, sourceRoot);
  if (frame) return { message, location: strip(frame) };
  return { message, location: own ? strip(own) : null };
}

/** The first `at` after the error line, before any trace frame: the error's own position. */
function ownPosition(
  lines: readonly string[],
  errorIndex: number,
  sourceRoot: string | null | undefined,
): Position | null {
  for (const line of lines.slice(errorIndex + 1)) {
    if (FRAME_LINE.test(line)) return null;
    const at = AT_LINE.exec(line);
    if (at) return position(at[1] ?? '', Number(at[2]), Number(at[3]), sourceRoot);
  }
  return null;
}

/** A flake path in the message itself (its lines up to the first `at` or frame). */
function namedInMessage(
  lines: readonly string[],
  errorIndex: number,
  sourceRoot: string | null | undefined,
): Position | null {
  for (const line of lines.slice(errorIndex)) {
    if (AT_LINE.test(line) || FRAME_LINE.test(line)) break;
    for (const match of line.matchAll(new RegExp(STORE_SOURCE, 'g'))) {
      const found = position(match[0], null, null, sourceRoot);
      if (found.inFlake && found.file !== '') return found;
    }
  }
  return null;
}

/** The trace frame in the flake closest to the error: the innermost one that is the user's. */
function nearestFrameInFlake(
  lines: readonly string[],
  errorIndex: number,
  sourceRoot: string | null | undefined,
): Position | null {
  const frames: { index: number; position: Position }[] = [];
  lines.forEach((line, index) => {
    const at = AT_LINE.exec(line);
    if (!at || index === errorIndex) return;
    const found = position(at[1] ?? '', Number(at[2]), Number(at[3]), sourceRoot);
    if (found.inFlake) frames.push({ index, position: found });
  });
  frames.sort((a, b) => Math.abs(a.index - errorIndex) - Math.abs(b.index - errorIndex));
  return frames[0]?.position ?? null;
}

function position(
  path: string,
  line: number | null,
  column: number | null,
  sourceRoot: string | null | undefined,
): Position {
  const root = sourceRoot ?? /^\/nix\/store\/[0-9a-z]{32}-source/.exec(path)?.[0];
  if (root && path.startsWith(`${root}/`)) {
    return { file: path.slice(root.length + 1), line, column, inFlake: true };
  }
  return { file: path, line, column, inFlake: false };
}

function strip(position: Position): NixErrorLocation {
  return { file: position.file, line: position.line, column: position.column };
}
