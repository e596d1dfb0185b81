import {
  Evaluation,
  formatNixErrorLocation,
  type CreatePreviewResponse,
  type Repository,
  type Revision,
  type RevisionList,
  type SyncResult,
} from '@flotilla/protocol';
import { columns, formatDuration, keyValues, table, type TimeFormat } from './format.js';

/** The first 12 characters of a commit id, as people quote them. */
export function shortSha(sha: string | null): string {
  return sha === null ? '-' : sha.slice(0, 12);
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? '';
}

/** The linked repository and how its last fetch went. */
export function renderRepository(repository: Repository, time: TimeFormat): string {
  const source = repository.locked
    ? 'config file (locked: change it there)'
    : 'API (flotilla repository link)';
  const pairs: [string, string][] = [
    ['URL', repository.url],
    ['Branch', repository.branch],
    ['Flake directory', repository.flakeDir === '' ? '(root)' : repository.flakeDir],
    ['Linked by', source],
    ['Credentials', repository.authKind],
    ['Poll interval', formatDuration(repository.pollIntervalSeconds)],
    ['Force pushes', repository.allowForcePush ? 'followed' : 'reported, not followed'],
    ['Following', shortSha(repository.followedSha)],
    ['Last fetch', time.stamp(repository.lastFetchAt, 'never')],
  ];
  if (repository.lastFetchError !== null)
    pairs.push(['Last fetch error', repository.lastFetchError]);
  const blocked = repository.forcePushBlocked;
  if (blocked !== null) {
    pairs.push([
      'Blocked',
      `branch rewritten to ${shortSha(blocked.sha)} at ${time.stamp(blocked.at)}; not followed`,
    ]);
  }
  return keyValues(pairs);
}

/** What a sync found. */
export function renderSyncResult(result: SyncResult, time: TimeFormat): string {
  const lines = [`Fetched ${result.repository.branch} at ${shortSha(result.headSha)}.`];
  const { forcePush } = result;
  if (forcePush !== null) {
    lines.push(
      forcePush.followed
        ? `The branch was rewritten (${shortSha(forcePush.from)} → ${shortSha(forcePush.to)}); following it, as allowed.`
        : `The branch was rewritten (${shortSha(forcePush.from)} → ${shortSha(forcePush.to)}); still following ${shortSha(forcePush.from)}.`,
    );
  }
  if (result.newRevisions.length === 0) lines.push('Nothing new.');
  else lines.push('', renderRevisionTable({ revisions: result.newRevisions }, time));
  return lines.join('\n');
}

/** Revisions, newest first. */
export function renderRevisionTable(list: RevisionList, time: TimeFormat): string {
  if (list.revisions.length === 0) return 'no revisions recorded yet';
  const rows = list.revisions.map((r) => [
    r.id,
    r.kind,
    shortSha(r.sha),
    r.kind === 'branch' ? r.ref.replace(/^refs\/heads\//, '') : r.ref,
    r.status,
    time.relative(r.discoveredAt),
    firstLine(r.message).slice(0, 60),
  ]);
  return table(['ID', 'KIND', 'COMMIT', 'REF', 'STATUS', 'FOUND', 'MESSAGE'], rows);
}

/** One revision with its full commit message. */
export function renderRevisionDetail(revision: Revision, time: TimeFormat): string {
  const pairs: [string, string][] = [
    ['Revision', revision.id],
    ['Kind', revision.kind],
    ['Ref', revision.ref],
    ['Commit', revision.sha],
    ['Author', revision.author],
    ['Committed', time.stamp(revision.committedAt, 'never')],
    ['Found', time.stamp(revision.discoveredAt, 'never')],
    ['Status', revision.status],
    ['Compared with', revision.baseRevisionId ?? '-'],
  ];
  if (revision.evaluatedAt !== null) pairs.push(['Evaluated', time.stamp(revision.evaluatedAt)]);
  if (revision.errorText !== null) pairs.push(['Error', revision.errorText]);
  const evaluation = Evaluation.safeParse(revision.evaluation);
  if (evaluation.success) pairs.push(['Hosts', hostCounts(evaluation.data)]);
  const message = revision.message
    .split('\n')
    .map((line) => `    ${line}`.trimEnd())
    .join('\n');
  const sections = evaluation.success ? evaluationSections(evaluation.data) : [];
  return [keyValues(pairs), ...sections, message].join('\n\n');
}

function hostCounts(evaluation: Evaluation): string {
  const evaluated = Object.keys(evaluation.nixos).length;
  const failed = Object.keys(evaluation.hostErrors).length;
  const counts = failed > 0 ? `${evaluated} evaluated, ${failed} failed` : `${evaluated} evaluated`;
  return evaluation.evaluatedPerHost === true ? `${counts} (evaluated host by host)` : counts;
}

/** Hosts that failed to evaluate (where and why), and hosts not rebuilt (how to retry). */
export function evaluationSections(evaluation: Evaluation): string[] {
  const sections: string[] = [];
  const failed = Object.entries(evaluation.hostErrors).map(([host, text]) => {
    const detail = evaluation.hostErrorDetails?.[host];
    return [
      host,
      detail?.location ? formatNixErrorLocation(detail.location) : '-',
      detail?.message ?? errorLine(text),
    ];
  });
  if (failed.length > 0) {
    sections.push(`Hosts that failed to evaluate:\n${indent(columns(failed))}`);
  }
  const skipped = Object.entries(evaluation.notRebuilt ?? {}).map(
    ([host, skip]) =>
      `${host}: not rebuilt — build ${skip.failedBuildId} of this derivation failed; flotilla build retry ${skip.failedBuildId}`,
  );
  if (skipped.length > 0) sections.push(`Not rebuilt:\n${indent(skipped.join('\n'))}`);
  return sections;
}

/** The line of Nix's error text that says what is wrong (the last `error: …` with a message). */
function errorLine(text: string): string {
  const lines = text.split('\n');
  const messages = lines.flatMap((line) => {
    const message = /^\s*error:\s*(.+)$/.exec(line)?.[1];
    return message ? [message.trim()] : [];
  });
  return messages.at(-1) ?? lines.find((line) => line.trim() !== '')?.trim() ?? '';
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** The answer to `flotilla preview REF`. */
export function renderPreviewCreated(response: CreatePreviewResponse, time: TimeFormat): string {
  const { revision, created } = response;
  const head = created
    ? `Recorded preview ${revision.id} of ${revision.ref} at ${shortSha(revision.sha)}.`
    : `${revision.ref} at ${shortSha(revision.sha)} was already recorded as ${revision.id}.`;
  return `${head}\n\n${renderRevisionDetail(revision, time)}\n\nFollow it with: flotilla preview show ${revision.id}`;
}
