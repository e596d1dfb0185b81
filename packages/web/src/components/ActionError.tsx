import { ApiError, messageOf } from '../api/api-error.js';

/** Why an action (approve, cancel, resume…) was refused, with the API's stable code. */
export function ActionError({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  if (error instanceof ApiError && error.code === 'step_up_cancelled') return null;
  const code = error instanceof ApiError ? error.code : null;
  return (
    <p className="form-error" role="alert">
      {messageOf(error)}
      {code !== null && <code className="error-code">{code}</code>}
    </p>
  );
}
