import type { ReactNode } from 'react';
import { CopyButton } from '../../components/CopyButton.js';

/**
 * A secret the controller shows once (an enrollment token, a generated password, an API
 * token): it is only in this page's memory until dismissed, and never fetched again.
 */
export function OneTimeSecret({
  title,
  secret,
  children,
  onDismiss,
}: {
  title: string;
  secret: string;
  children?: ReactNode;
  onDismiss: () => void;
}) {
  return (
    <div className="callout callout-warn one-time" role="status" data-testid="one-time-secret">
      <p>
        <strong>{title}</strong> — shown only this once; copy it now.
      </p>
      <div className="secret-row">
        <code className="break" data-testid="secret">
          {secret}
        </code>
        <CopyButton text={secret} label={`Copy ${title}`} />
      </div>
      {children}
      <button type="button" onClick={onDismiss}>
        I have copied it
      </button>
    </div>
  );
}
