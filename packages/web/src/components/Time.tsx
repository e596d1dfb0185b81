import { formatAgo, formatTime } from '../format/time.js';

/** A time as `3 minutes ago`, with the full time (browser's zone) on hover and for machines. */
export function Time({
  iso,
  absolute = false,
}: {
  iso: string | null | undefined;
  absolute?: boolean;
}) {
  if (!iso) return <span className="muted">—</span>;
  const full = formatTime(iso);
  return (
    <time dateTime={iso} title={full}>
      {absolute ? full : formatAgo(iso)}
    </time>
  );
}
