import type { AuditEntry, AuditList } from '@flotilla/protocol';
import { firstLine, shortStorePath, table, type TimeFormat } from './format.js';

/** Longest DETAIL cell; the whole entry is in `--json`. */
const DETAIL_MAX = 100;

/**
 * A scalar (or a list of them) as one short token: store paths shortened, times in the
 * user's format, objects elided.
 */
function compactValue(value: unknown, time: TimeFormat): string {
  if (typeof value === 'string') return time.localize(shortStorePath(value.replace(/\s+/g, ' ')));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return '-';
  if (Array.isArray(value)) return value.map((item) => compactValue(item, time)).join(',');
  return '{…}';
}

/**
 * The DETAIL column: the deployment, `from → to` when the entry records a change, the reason
 * and comment people wrote, then any other fields as `key=value`.
 */
export function auditDetail(entry: AuditEntry, time: TimeFormat): string {
  const parts: string[] = [];
  if (entry.deploymentId !== null) parts.push(entry.deploymentId);
  const { data } = entry;
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    const fields = { ...(data as Record<string, unknown>) };
    if ('from' in fields || 'to' in fields) {
      const change = [fields.from ?? null, fields.to ?? null].map((v) => compactValue(v, time));
      parts.push(change.join(' → '));
    }
    for (const key of ['reason', 'comment']) {
      if (fields[key] !== undefined && fields[key] !== null) {
        parts.push(`${key}: ${compactValue(fields[key], time)}`);
      }
    }
    for (const key of ['from', 'to', 'reason', 'comment']) delete fields[key];
    if (fields.deploymentId === entry.deploymentId) delete fields.deploymentId;
    for (const [key, value] of Object.entries(fields)) {
      parts.push(`${key}=${compactValue(value, time)}`);
    }
  } else if (data !== null && data !== undefined) {
    parts.push(compactValue(data, time));
  }
  return parts.length === 0 ? '-' : firstLine(parts.join('; '), DETAIL_MAX);
}

/** The filters an audit page was read with, so the footer can ask for the next page. */
export interface AuditFilters {
  host?: string | undefined;
  kind?: string | undefined;
  limit?: number | undefined;
}

/** The command that reads the page after this one, keeping the filters. */
export function nextPageCommand(filters: AuditFilters, cursor: number): string {
  const words = ['flotilla audit'];
  if (filters.host !== undefined) words.push(`--host ${filters.host}`);
  if (filters.kind !== undefined) words.push(`--kind ${filters.kind}`);
  if (filters.limit !== undefined) words.push(`--limit ${filters.limit}`);
  words.push(`--before ${cursor}`);
  return words.join(' ');
}

/** One page of the audit log, newest first, times in the user's format. */
export function renderAuditTable(list: AuditList, filters: AuditFilters, time: TimeFormat): string {
  if (list.entries.length === 0) return 'no audit entries';
  const rows = list.entries.map((e) => [
    time.dateTime(e.at),
    e.actor,
    e.kind,
    e.host ?? '-',
    auditDetail(e, time),
  ]);
  const lines = [table(['TIME', 'ACTOR', 'KIND', 'HOST', 'DETAIL'], rows)];
  if (list.nextCursor !== null) {
    lines.push('', `older entries: ${nextPageCommand(filters, list.nextCursor)}`);
  }
  return lines.join('\n');
}
