import { BrandMark } from '../components/BrandMark.js';
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError, messageOf } from '../api/api-error.js';
import { useApi } from '../api/api-context.js';
import { queryKeys } from '../api/query-keys.js';
import { navigate, useLocation } from '../app/router.js';

/** Username and password; a TOTP code when the controller says the user has TOTP on. */
export function LoginPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const { pathname } = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needsTotp, setNeedsTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.login({
        username,
        password,
        ...(needsTotp && totp !== '' ? { totp } : {}),
      });
      await queryClient.invalidateQueries({ queryKey: queryKeys.me });
      if (pathname === '/login') navigate('/', { replace: true });
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'totp_required') {
        setNeedsTotp(true);
        setError('Enter the code from your authenticator app.');
      } else {
        setError(messageOf(caught));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form
        className="card login-card"
        onSubmit={(e) => void submit(e)}
        aria-labelledby="login-title"
      >
        <h1 id="login-title">
          <BrandMark /> Flotilla
        </h1>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoFocus
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {needsTotp && (
          <label>
            TOTP code
            <input
              name="totp"
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              value={totp}
              onChange={(e) => setTotp(e.target.value)}
              autoFocus
            />
          </label>
        )}
        {error !== null && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
