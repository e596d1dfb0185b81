import type { Repository } from '@flotilla/protocol';
import { useState, type FormEvent } from 'react';
import { useRepository } from '../../api/queries.js';
import { useCan } from '../../auth/session.js';
import { ActionError } from '../../components/ActionError.js';
import { CopyButton } from '../../components/CopyButton.js';
import { QueryView } from '../../components/states.js';
import { Time } from '../../components/Time.js';
import { shortSha } from '../../format/quantity.js';
import { useLinkRepository, useWebhookInfo } from './settings.queries.js';

/** The linked repository, the webhook to paste into GitHub, and the link form for admins. */
export function RepositorySection() {
  const repository = useRepository();
  const can = useCan();
  const webhook = useWebhookInfo();
  const webhookUrl = `${window.location.origin}${webhook.data?.path ?? '/api/v1/webhooks/github'}`;
  return (
    <section aria-labelledby="repository-title" className="settings-section">
      <h2 id="repository-title">Repository</h2>
      <QueryView query={repository} label="Loading the repository">
        {(r) => (
          <>
            {r === null ? <p>No repository is linked yet.</p> : <RepositoryFacts repository={r} />}
            {can('admin') &&
              (r?.locked ? (
                <p className="muted">
                  The controller's config file links this repository; change it there.
                </p>
              ) : (
                <LinkForm current={r} />
              ))}
          </>
        )}
      </QueryView>
      <h3>GitHub webhook</h3>
      <p>
        In the repository's settings on GitHub, add a webhook for <em>push</em> and{' '}
        <em>pull request</em> events with content type <code>application/json</code> and this
        payload URL:
      </p>
      <div className="secret-row">
        <code className="break" data-testid="webhook-url">
          {webhookUrl}
        </code>
        <CopyButton text={webhookUrl} label="Copy the webhook URL" />
      </div>
      <p className="muted small">
        Use the secret of the controller's config file (<code>repository.webhookSecretFile</code>
        ); deliveries without a valid signature are ignored.
      </p>
      {webhook.data && (
        <p
          data-testid="webhook-secret"
          className={webhook.data.secretConfigured ? 'small' : 'warn small'}
        >
          {webhook.data.secretConfigured
            ? 'A webhook secret is configured.'
            : 'No webhook secret is configured: GitHub’s deliveries are refused, and the controller only polls.'}
        </p>
      )}
    </section>
  );
}

function RepositoryFacts({ repository: r }: { repository: Repository }) {
  return (
    <dl className="facts">
      <div>
        <dt>URL</dt>
        <dd className="mono break">{r.url}</dd>
      </div>
      <div>
        <dt>Branch</dt>
        <dd className="mono">
          {r.branch}
          {r.flakeDir && ` (flake in ${r.flakeDir})`}
        </dd>
      </div>
      <div>
        <dt>Linked by</dt>
        <dd>{r.source === 'config' ? 'the config file (locked)' : 'the API'}</dd>
      </div>
      <div>
        <dt>Credentials</dt>
        <dd>
          {
            { none: 'none', token: 'an access token (never shown)', ssh_key: 'an SSH key file' }[
              r.authKind
            ]
          }
        </dd>
      </div>
      <div>
        <dt>Following</dt>
        <dd className="mono">{shortSha(r.followedSha)}</dd>
      </div>
      <div>
        <dt>Last fetch</dt>
        <dd>
          <Time iso={r.lastFetchAt} /> (every {r.pollIntervalSeconds} s)
          {r.lastFetchError && <p className="bad">{r.lastFetchError}</p>}
        </dd>
      </div>
      {r.forcePushBlocked && (
        <div>
          <dt>Force push</dt>
          <dd className="warn">
            The branch was rewritten to {shortSha(r.forcePushBlocked.sha)}; not followed.
          </dd>
        </div>
      )}
    </dl>
  );
}

function LinkForm({ current }: { current: Repository | null }) {
  const link = useLinkRepository();
  const [url, setUrl] = useState(current?.url ?? '');
  const [branch, setBranch] = useState(current?.branch ?? 'main');
  const [flakeDir, setFlakeDir] = useState(current?.flakeDir ?? '');
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    link.mutate(
      {
        url: url.trim(),
        branch: branch.trim(),
        flakeDir: flakeDir.trim(),
        pollIntervalSeconds: current?.pollIntervalSeconds ?? 60,
        allowForcePush: current?.allowForcePush ?? false,
        ...(token === '' ? {} : { token }),
      },
      { onSuccess: () => setToken('') },
    );
  };
  return (
    <form className="settings-form" onSubmit={submit} aria-label="Link the repository">
      <label>
        Repository URL (https, ssh or git@host:path)
        <input value={url} onChange={(e) => setUrl(e.target.value)} required />
      </label>
      <label>
        Branch
        <input value={branch} onChange={(e) => setBranch(e.target.value)} required />
      </label>
      <label>
        Flake directory (empty for the root)
        <input value={flakeDir} onChange={(e) => setFlakeDir(e.target.value)} />
      </label>
      <label>
        Access token (write-only)
        <input
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          placeholder={
            current?.authKind === 'token' ? 'a token is set; paste one to replace it' : ''
          }
        />
        <span className="muted small">
          Never shown again once saved. Linking replaces the whole link: without a token here it is
          linked without one.
        </span>
      </label>
      <button type="submit" className="primary" disabled={link.isPending}>
        {current ? 'Save the link' : 'Link the repository'}
      </button>
      {link.isSuccess && <p role="status">Saved.</p>}
      <ActionError error={link.error} />
    </form>
  );
}

/** The cache's public key, for each agent's trusted keys. */
export function CacheKey({ publicKey }: { publicKey: string }) {
  return (
    <div className="secret-row">
      <code className="break" data-testid="cache-key">
        {publicKey}
      </code>
      <CopyButton text={publicKey} label="Copy the cache's public key" />
    </div>
  );
}
