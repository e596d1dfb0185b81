import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useApi } from '../api/api-context.js';

interface Pending {
  action: string;
  resolve: (code: string | null) => void;
}

/**
 * Step-up: when the API answers `step_up_required` for a destructive action, a modal asks
 * for a current TOTP code and the client sends the request once more with it
 * (`x-flotilla-totp`). Cancelling fails the action with `step_up_cancelled`.
 */
export function StepUpProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const [pending, setPending] = useState<Pending | null>(null);
  useEffect(() => {
    api.setStepUpPrompt(
      (action) => new Promise<string | null>((resolve) => setPending({ action, resolve })),
    );
    return () => api.setStepUpPrompt(undefined);
  }, [api]);
  const finish = (code: string | null) => {
    pending?.resolve(code);
    setPending(null);
  };
  return (
    <>
      {children}
      {pending && <StepUpDialog action={pending.action} onDone={finish} />}
    </>
  );
}

function StepUpDialog({
  action,
  onDone,
}: {
  action: string;
  onDone: (code: string | null) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [code, setCode] = useState('');
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onDone(code);
  };
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="step-up-title"
      onCancel={() => onDone(null)}
    >
      <form onSubmit={submit}>
        <h2 id="step-up-title">Confirm with your TOTP code</h2>
        <p>
          <strong>{action}</strong> needs a fresh code from your authenticator app.
        </p>
        <label>
          TOTP code
          <input
            name="step-up-code"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            autoFocus
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        </label>
        <div className="dialog-actions">
          <button type="button" onClick={() => onDone(null)}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Confirm
          </button>
        </div>
      </form>
    </dialog>
  );
}
