import { Role, TokenScope, type ApiToken, type User } from '@flotilla/protocol';
import { useState, type FormEvent } from 'react';
import { useCan, useSession } from '../../auth/session.js';
import { ActionError } from '../../components/ActionError.js';
import { Empty, QueryView } from '../../components/states.js';
import { Badge } from '../../components/StatusBadge.js';
import { Time } from '../../components/Time.js';
import { OneTimeSecret } from './OneTimeSecret.js';
import {
  useCreateToken,
  useCreateUser,
  useRevokeToken,
  useTokens,
  useUpdateUser,
  useUsers,
} from './settings.queries.js';

/** Users (admins) and API tokens (everyone's own; an admin sees all). */
export function PeopleSection() {
  const can = useCan();
  return (
    <>
      {can('admin') && <UsersSection />}
      <TokensSection all={can('admin')} />
    </>
  );
}

function UsersSection() {
  const users = useUsers(true);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  return (
    <section aria-labelledby="users-title" className="settings-section">
      <h2 id="users-title">Users</h2>
      {secret && (
        <OneTimeSecret
          title={secret.title}
          secret={secret.value}
          onDismiss={() => setSecret(null)}
        />
      )}
      <CreateUserForm
        onPassword={(username, value) => setSecret({ title: `Password of ${username}`, value })}
      />
      <QueryView query={users} label="Loading users">
        {(data) => (
          <div className="table-scroll">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">TOTP</th>
                  <th scope="col">State</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {data.users.map((u) => (
                  <UserRow
                    key={u.id}
                    user={u}
                    onPassword={(value) =>
                      setSecret({ title: `New password of ${u.username}`, value })
                    }
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
    </section>
  );
}

function CreateUserForm({
  onPassword,
}: {
  onPassword: (username: string, password: string) => void;
}) {
  const create = useCreateUser();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { username: username.trim(), role },
      {
        onSuccess: (answer) => {
          setUsername('');
          if (answer.password) onPassword(answer.user.username, answer.password);
        },
      },
    );
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Add a user">
      <label>
        New user
        <input value={username} onChange={(e) => setUsername(e.target.value)} required />
      </label>
      <label>
        Role
        <select value={role} onChange={(e) => setRole(Role.parse(e.target.value))}>
          {Role.options.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="primary" disabled={create.isPending}>
        Add user (password generated)
      </button>
      <ActionError error={create.error} />
    </form>
  );
}

/** Changing a user asks for a TOTP code (step-up, through the shell's dialog). */
function UserRow({ user: u, onPassword }: { user: User; onPassword: (password: string) => void }) {
  const update = useUpdateUser();
  const me = useSession();
  const self = me.user.id === u.id;
  const change = (body: Parameters<typeof update.mutate>[0]['body']) =>
    update.mutate(
      { username: u.username, body },
      { onSuccess: (answer) => answer.password && onPassword(answer.password) },
    );
  return (
    <tr data-testid="user-row">
      <td>
        {u.username}
        {self && <span className="muted"> (you)</span>}
      </td>
      <td>
        <select
          aria-label={`Role of ${u.username}`}
          value={u.role}
          disabled={self || update.isPending}
          onChange={(e) => change({ role: Role.parse(e.target.value) })}
        >
          {Role.options.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </td>
      <td>{u.totpEnabled ? 'on' : 'off'}</td>
      <td>
        {u.disabled ? (
          <Badge tone="bad" status="disabled">
            disabled
          </Badge>
        ) : (
          <Badge tone="ok" status="active">
            active
          </Badge>
        )}
      </td>
      <td>
        <span className="row-actions">
          {!self && (
            <button type="button" onClick={() => change({ disabled: !u.disabled })}>
              {u.disabled ? 'Enable' : 'Disable'}
            </button>
          )}
          <button type="button" onClick={() => change({ resetPassword: true })}>
            Reset password
          </button>
          {u.totpEnabled && (
            <button type="button" onClick={() => change({ resetTotp: true })}>
              Reset TOTP
            </button>
          )}
        </span>
        <ActionError error={update.error} />
      </td>
    </tr>
  );
}

function TokensSection({ all }: { all: boolean }) {
  const tokens = useTokens(all);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  return (
    <section aria-labelledby="tokens-title" className="settings-section">
      <h2 id="tokens-title">API tokens</h2>
      {secret && (
        <OneTimeSecret
          title={secret.title}
          secret={secret.value}
          onDismiss={() => setSecret(null)}
        />
      )}
      <CreateTokenForm onToken={(name, value) => setSecret({ title: `Token ${name}`, value })} />
      <QueryView query={tokens} label="Loading tokens">
        {(data) =>
          data.tokens.length === 0 ? (
            <Empty title="No API tokens." />
          ) : (
            <TokenTable tokens={data.tokens} />
          )
        }
      </QueryView>
    </section>
  );
}

function CreateTokenForm({ onToken }: { onToken: (name: string, token: string) => void }) {
  const create = useCreateToken();
  const [name, setName] = useState('');
  const [scope, setScope] = useState<TokenScope>('read');
  const [days, setDays] = useState('90');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { name: name.trim(), scope, expiresInDays: Number(days) },
      {
        onSuccess: (answer) => {
          setName('');
          onToken(answer.apiToken.name, answer.token);
        },
      },
    );
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create an API token">
      <label>
        Token name
        <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
      </label>
      <label>
        Scope
        <select value={scope} onChange={(e) => setScope(TokenScope.parse(e.target.value))}>
          {TokenScope.options.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Days valid
        <input
          type="number"
          min={1}
          max={1825}
          value={days}
          onChange={(e) => setDays(e.target.value)}
          required
        />
      </label>
      <button type="submit" className="primary" disabled={create.isPending}>
        Create token
      </button>
      <ActionError error={create.error} />
    </form>
  );
}

function TokenTable({ tokens }: { tokens: ApiToken[] }) {
  const revoke = useRevokeToken();
  return (
    <div className="table-scroll">
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">User</th>
            <th scope="col">Scope</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td>{t.username}</td>
              <td>{t.scope}</td>
              <td>
                <Time iso={t.lastUsedAt} />
              </td>
              <td>
                <Time iso={t.expiresAt} />
              </td>
              <td>
                {t.revokedAt ? (
                  <span className="muted">
                    revoked <Time iso={t.revokedAt} />
                  </span>
                ) : (
                  <button
                    type="button"
                    className="danger"
                    disabled={revoke.isPending}
                    onClick={() => revoke.mutate(t.id)}
                    aria-label={`Revoke token ${t.name}`}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ActionError error={revoke.error} />
    </div>
  );
}
