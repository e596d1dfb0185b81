import { useCallback, useEffect, useRef, useState } from 'react';

/** Where a file's edits stand against what the draft holds. */
export type SaveStatus =
  { kind: 'saved' } | { kind: 'unsaved' } | { kind: 'saving' } | { kind: 'failed'; error: unknown };

/** How long typing pauses before the file is saved by itself, in milliseconds. */
export const AUTOSAVE_MS = 800;

/**
 * Saves one open file into its draft as the person types: after a pause ({@link AUTOSAVE_MS}),
 * on Ctrl-S or the Save button, and before anything leaves the file (another file, check,
 * commit). Saves run one at a time and always send the newest text; a failed save keeps
 * the text in the editor and says so until a later save succeeds.
 */
export function useDraftFileSaver(options: {
  /** The text the draft holds for the file when it was opened. */
  savedText: string;
  /** Writes `text` into the draft (making the draft first when there is none). */
  write: (text: string) => Promise<void>;
}) {
  const [status, setStatus] = useState<SaveStatus>({ kind: 'saved' });
  const saved = useRef(options.savedText);
  const current = useRef(options.savedText);
  const running = useRef<Promise<void> | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const write = useRef(options.write);
  useEffect(() => {
    write.current = options.write;
  });

  const flush = useCallback(async (): Promise<void> => {
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = null;
    // One save at a time: wait for the one running, then save what is newest by then.
    while (running.current !== null) await running.current.catch(() => undefined);
    const text = current.current;
    if (text === saved.current) return;
    setStatus({ kind: 'saving' });
    const attempt = write.current(text);
    running.current = attempt;
    try {
      await attempt;
      saved.current = text;
      setStatus(current.current === text ? { kind: 'saved' } : { kind: 'unsaved' });
    } catch (error) {
      setStatus({ kind: 'failed', error });
      throw error;
    } finally {
      running.current = null;
    }
  }, []);

  const edit = useCallback(
    (text: string) => {
      current.current = text;
      if (timer.current !== null) clearTimeout(timer.current);
      if (text === saved.current) {
        timer.current = null;
        if (running.current === null) setStatus({ kind: 'saved' });
        return;
      }
      setStatus((now) => (now.kind === 'failed' ? now : { kind: 'unsaved' }));
      timer.current = setTimeout(() => void flush().catch(() => undefined), AUTOSAVE_MS);
    },
    [flush],
  );

  // Unsaved text asks before the tab closes, and is saved when the file is left.
  const dirty = status.kind !== 'saved';
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);
  useEffect(() => () => void flush().catch(() => undefined), [flush]);

  return { status, edit, flush };
}
