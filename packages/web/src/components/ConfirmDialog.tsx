import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';

/**
 * A modal that asks before an action: what will happen, an optional comment, and — for
 * what cannot be undone — a word to type out (a reboot wants the host's name).
 */
export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** Ask for a comment (sent with the decision). */
  withComment?: boolean;
  /** The text the person must type to enable the button. */
  typeToConfirm?: string;
  busy?: boolean;
  onConfirm: (comment: string) => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [comment, setComment] = useState('');
  const [typed, setTyped] = useState('');
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const ready = props.typeToConfirm === undefined || typed === props.typeToConfirm;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (ready) props.onConfirm(comment);
  };
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="confirm-title"
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <form onSubmit={submit}>
        <h2 id="confirm-title">{props.title}</h2>
        <div>{props.children}</div>
        {props.withComment && (
          <label>
            Comment (optional)
            <textarea value={comment} onChange={(e) => setComment(e.target.value)} rows={2} />
          </label>
        )}
        {props.typeToConfirm !== undefined && (
          <label>
            Type <code>{props.typeToConfirm}</code> to confirm
            <input
              name="type-to-confirm"
              autoComplete="off"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoFocus
            />
          </label>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button
            type="submit"
            className={props.danger ? 'danger' : 'primary'}
            disabled={!ready || props.busy}
          >
            {props.busy ? 'Working…' : props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
