import { QueryView } from '../../components/states.js';
import { FleetRulesSection } from './FleetRulesSection.js';
import { HostsSection } from './HostsSection.js';
import { PeopleSection } from './PeopleSection.js';
import { CacheKey, RepositorySection } from './RepositorySection.js';
import { useCacheInfo } from './settings.queries.js';

/**
 * Settings: the repository and its webhook, the cache's key, hosts and enrollment, people
 * and tokens, and the config file's rules (read-only). Everyone may read it; changes are
 * for admins (tokens: everyone's own), and destructive ones ask for a TOTP code.
 */
export function SettingsPage() {
  const cache = useCacheInfo();
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <nav aria-label="Settings sections" className="section-links">
        <a href="#repository-title">Repository</a> <a href="#cache-title">Cache</a>{' '}
        <a href="#hosts-title">Hosts</a> <a href="#tokens-title">People and tokens</a>{' '}
        <a href="#rules-title">Waves, windows, notifications</a>
      </nav>
      <RepositorySection />
      <section aria-labelledby="cache-title" className="settings-section">
        <h2 id="cache-title">Binary cache</h2>
        <QueryView query={cache} label="Loading the cache">
          {(c) => (
            <>
              <p>Each agent trusts closures signed with this key (its trusted public keys):</p>
              <CacheKey publicKey={c.publicKey} />
              <p className="muted small">
                Served at <code>{c.path}</code>
                {c.pushTo && (
                  <>
                    ; also pushed to <code>{c.pushTo}</code>
                  </>
                )}
                .
              </p>
            </>
          )}
        </QueryView>
      </section>
      <HostsSection cacheKey={cache.data?.publicKey ?? null} />
      <PeopleSection />
      <FleetRulesSection />
    </section>
  );
}
