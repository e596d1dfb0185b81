import type {
  Build,
  BuildList,
  BuildLogLine,
  FlakeHostList,
  Preview,
  Release,
  ReleaseList,
} from '@flotilla/protocol';
import {
  firstLine,
  formatBytes,
  keyValues,
  shortStorePath,
  spanLabel,
  table,
  type TimeFormat,
} from './format.js';

function size(bytes: number | null): string {
  return bytes === null ? '-' : formatBytes(bytes);
}

/** The builds table, newest first. */
export function renderBuildTable(list: BuildList, time: TimeFormat): string {
  if (list.builds.length === 0) return 'no builds';
  const rows = list.builds.map((b) => [
    b.id,
    b.host,
    b.kind,
    b.status,
    String(b.attempt),
    shortStorePath(b.outPath ?? b.drvPath),
    time.relative(b.createdAt),
    spanLabel(b.startedAt, b.finishedAt),
  ]);
  return table(['ID', 'HOST', 'KIND', 'STATUS', 'TRY', 'SYSTEM', 'CREATED', 'DURATION'], rows);
}

/** A build's fields; a failed build shows its Nix error first, above everything else. */
export function renderBuildDetail(build: Build, time: TimeFormat): string {
  const pairs: [string, string][] = [
    ['Build', build.id],
    ['Host', build.host],
    ['Kind', build.kind],
    ['Status', `${build.status} (attempt ${build.attempt})`],
    ['Revision', build.revisionId],
    ['Derivation', build.drvPath],
    ['Output', build.outPath ?? '-'],
    ['Closure', size(build.closureSize)],
    ['Builders', build.builders ?? 'local'],
    ['Created', time.stamp(build.createdAt)],
    ['Duration', spanLabel(build.startedAt, build.finishedAt)],
    ['Log', `${formatBytes(build.logBytes)}${build.logTruncated ? ' (truncated)' : ''}`],
  ];
  const error = build.errorSummary ? `Error:\n${indent(build.errorSummary)}\n\n` : '';
  return `${error}${keyValues(pairs)}`;
}

/** One build log line, stamped with its time of day. */
export function renderBuildLogLine(line: BuildLogLine, time: TimeFormat): string {
  return `${time.timeOfDay(line.at)} ${line.line}`;
}

/** The releases table, newest first. */
export function renderReleaseTable(list: ReleaseList, time: TimeFormat): string {
  if (list.releases.length === 0) return 'no releases';
  const rows = list.releases.map((r) => [
    r.id,
    r.host,
    r.status,
    `${r.sha.slice(0, 8)} ${firstLine(r.commitMessage, 40)}`,
    shortStorePath(r.storePath),
    size(r.closureSize),
    time.relative(r.createdAt),
  ]);
  return table(['ID', 'HOST', 'STATUS', 'COMMIT', 'SYSTEM', 'SIZE', 'CREATED'], rows);
}

export function renderReleaseDetail(release: Release, time: TimeFormat): string {
  return keyValues([
    ['Release', release.id],
    ['Host', release.host],
    ['Status', release.status],
    ['Commit', release.sha],
    ['Message', firstLine(release.commitMessage, 200)],
    ['Author', release.commitAuthor],
    ['Committed', time.dateTime(release.committedAt)],
    ['Store path', release.storePath],
    ['Closure', size(release.closureSize)],
    ['Build', release.buildId],
    ['Replaces', release.previousReleaseId ?? '-'],
    ['Created', time.stamp(release.createdAt)],
  ]);
}

/** A preview: the one-line summary, then each host's change. */
export function renderPreview(preview: Preview): string {
  const head = `${preview.ref} at ${preview.sha.slice(0, 8)}: ${preview.summary} (${preview.status})`;
  if (preview.errorText) return `${head}\n\n${preview.errorText}`;
  const rows = preview.hosts.map((h) => [
    h.host,
    h.added ? 'added' : h.removed ? 'removed' : h.changed ? 'rebuilds' : 'unchanged',
    h.buildStatus ?? '-',
    size(h.closureSize),
    h.deltaBytes === null
      ? '-'
      : `${h.deltaBytes >= 0 ? '+' : '−'}${formatBytes(Math.abs(h.deltaBytes))}`,
  ]);
  return `${head}\n\n${table(['HOST', 'CHANGE', 'BUILD', 'SIZE', 'DELTA'], rows, ['left', 'left', 'left', 'right', 'right'])}`;
}

/** The flake's hosts next to the registry. */
export function renderFlakeHosts(list: FlakeHostList): string {
  if (list.hosts.length === 0) return 'no hosts (the flake has not been evaluated yet)';
  const rows = list.hosts.map((h) => [
    h.name,
    h.kind ?? '-',
    h.registered ? 'yes' : 'no',
    h.discovered
      ? 'discovered: in the flake, no agent registered'
      : h.missingFromFlake
        ? 'missing from the flake'
        : '',
  ]);
  return table(['NAME', 'FLAKE', 'REGISTERED', 'NOTE'], rows);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
