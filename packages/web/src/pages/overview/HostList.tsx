import type { OverviewHost } from '@flotilla/protocol';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import { HOST_COLUMNS, HostRow } from './HostRow.js';

/** Height of one row in pixels (CSS `.host-row` holds it; the phone layout too). */
const ROW_HEIGHT = 64;

/**
 * The hosts as a table whose rows are rendered only while in view (a thousand hosts cost a
 * screenful of rows), with a checkbox per host for bulk actions when `selectable`.
 */
export function HostList(props: {
  hosts: readonly OverviewHost[];
  selected: ReadonlySet<string>;
  selectable: boolean;
  onToggle: (name: string) => void;
  onToggleAll: (select: boolean) => void;
}) {
  const { hosts, selected } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: hosts.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });
  const allSelected = hosts.length > 0 && hosts.every((h) => selected.has(h.host.name));
  return (
    <div role="table" aria-label="Hosts" aria-rowcount={hosts.length + 1} className="host-table">
      <div role="rowgroup">
        <div role="row" aria-rowindex={1} className="host-row host-head">
          {HOST_COLUMNS.map((column, index) => (
            <div role="columnheader" key={column}>
              {index === 0 && props.selectable && (
                <input
                  type="checkbox"
                  checked={allSelected}
                  onChange={() => props.onToggleAll(!allSelected)}
                  aria-label="Select every host shown"
                />
              )}
              {column}
            </div>
          ))}
        </div>
      </div>
      <div ref={scroller} className="host-scroll" data-testid="host-scroll">
        <div
          role="rowgroup"
          className="host-rows"
          // React sets styles through the CSSOM, which the CSP's style-src 'self' allows.
          style={{ height: virtualizer.getTotalSize() }}
        >
          {virtualizer.getVirtualItems().map((item) => {
            const entry = hosts[item.index];
            if (!entry) return null;
            return (
              <div
                role="row"
                aria-rowindex={item.index + 2}
                key={entry.host.name}
                data-testid="host-row"
                data-host={entry.host.name}
                className={`host-row${selected.has(entry.host.name) ? ' selected' : ''}`}
                style={{ transform: `translateY(${item.start}px)` }}
              >
                <HostRow
                  entry={entry}
                  selected={selected.has(entry.host.name)}
                  selectable={props.selectable}
                  onToggle={props.onToggle}
                />
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
