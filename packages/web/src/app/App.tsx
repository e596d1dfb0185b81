import { Suspense, useEffect } from 'react';
import { SessionGate } from '../auth/session.js';
import { Empty, Loading } from '../components/states.js';
import { StepUpProvider } from '../components/StepUpDialog.js';
import { LiveEventsProvider } from '../live/live-context.js';
import { AppHeader } from './AppHeader.js';
import { Link } from './Link.js';
import { isCurrentSection, NAV_ITEMS } from './nav.js';
import { matchPath, useLocation } from './router.js';
import { ROUTES } from './routes.js';

/** The app: the login until a session exists, then header, navigation and the current page. */
export function App() {
  return (
    <SessionGate>
      <StepUpProvider>
        <LiveEventsProvider>
          <Shell />
        </LiveEventsProvider>
      </StepUpProvider>
    </SessionGate>
  );
}

function Shell() {
  const { pathname } = useLocation();
  const found = ROUTES.map((route) => ({ route, params: matchPath(route.pattern, pathname) })).find(
    (entry) => entry.params !== null,
  );
  const title = found?.route.title ?? 'Not found';
  useEffect(() => {
    document.title = `${title} · Flotilla`;
  }, [title]);
  return (
    <div className="app">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppHeader />
      <nav className="app-nav" aria-label="Main">
        <ul>
          {NAV_ITEMS.map((item) => (
            <li key={item.to}>
              <Link
                to={item.to}
                aria-current={isCurrentSection(item.to, pathname) ? 'page' : undefined}
              >
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="app-main" tabIndex={-1}>
        <Suspense fallback={<Loading label="Loading the page" />}>
          {found && found.params !== null ? (
            <found.route.page params={found.params} />
          ) : (
            <Empty title="No such page.">
              <Link to="/">Back to the overview</Link>
            </Empty>
          )}
        </Suspense>
      </main>
    </div>
  );
}
