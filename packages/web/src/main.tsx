import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiClient, localCsrfStore } from './api/api-client.js';
import { ApiProvider } from './api/api-context.js';
import { isUnauthenticated } from './api/api-error.js';
import { queryKeys } from './api/query-keys.js';
import { App } from './app/App.js';
import './styles.css';

const api = new ApiClient({ csrf: localCsrfStore() });
const queryClient: QueryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      // A refused request is not retried; a network error is, twice.
      retry: (failures, error) => !isUnauthenticated(error) && failures < 2,
      refetchOnWindowFocus: false,
    },
  },
  queryCache: new QueryCache({
    // A session that ended while the page was open: ask who is logged in, which shows the login.
    onError: (error, query) => {
      if (isUnauthenticated(error) && query.queryKey[0] !== queryKeys.me[0]) {
        void queryClient.invalidateQueries({ queryKey: queryKeys.me });
      }
    },
  }),
});

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <ApiProvider client={api}>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </ApiProvider>
  </StrictMode>,
);
