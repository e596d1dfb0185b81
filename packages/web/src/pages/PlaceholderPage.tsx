import { Empty } from '../components/states.js';
import { useLocation } from '../app/router.js';

/** A page that is not built yet: says so instead of pretending. */
export function PlaceholderPage() {
  const { pathname } = useLocation();
  return (
    <section aria-labelledby="placeholder-title">
      <h1 id="placeholder-title">{pathname}</h1>
      <Empty title="This page is not built yet.">
        <p>The command line (`flotilla --help`) and the API do what it will show.</p>
      </Empty>
    </section>
  );
}
