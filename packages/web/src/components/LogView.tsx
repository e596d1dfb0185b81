import { useEffect, useRef, useState } from 'react';
import { formatTime } from '../format/time.js';

/** One line of a log as the view shows it. */
export interface LogViewLine {
  seq: number;
  at: string;
  line: string;
  stream?: string;
}

/**
 * A log that grows: monospaced lines with their number, stderr marked, following the end
 * while "Follow" is on (the default). Screen readers get it as a `log` region that does
 * not announce every line.
 */
export function LogView({
  lines,
  label,
  emptyText,
}: {
  lines: readonly LogViewLine[];
  label: string;
  emptyText: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  useEffect(() => {
    const element = box.current;
    if (follow && element) element.scrollTop = element.scrollHeight;
  }, [follow, lines.length]);
  return (
    <div className="log-view">
      <div className="log-toolbar">
        <span className="muted">{lines.length} lines</span>
        <label className="inline">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow the end
        </label>
      </div>
      <div
        ref={box}
        className="log-lines"
        role="log"
        aria-live="off"
        aria-label={label}
        tabIndex={0}
        data-testid="log"
      >
        {lines.length === 0 ? (
          <p className="muted">{emptyText}</p>
        ) : (
          lines.map((l) => (
            <div key={l.seq} className={`log-line log-${l.stream ?? 'stdout'}`} data-seq={l.seq}>
              <span className="log-seq" title={formatTime(l.at)}>
                {l.seq}
              </span>
              <span className="log-text">{l.line}</span>
            </div>
          ))
        )}
      </div>
    </div>
  );
}
