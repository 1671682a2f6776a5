import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { preloadScreens, Root } from './App';
import { ApiError } from './api/client';
import { ME_KEY } from './auth';
import './styles.css';

// A 401 anywhere means the session ended: show the sign-in form instead of a broken screen.
const onError = (error: unknown) => {
  if (error instanceof ApiError && error.status === 401) client.setQueryData(ME_KEY, null);
};

const client: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      // Client errors will not change on retry; transport and 5xx errors get one more try.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 1,
      staleTime: 10_000,
      refetchOnWindowFocus: false,
    },
  },
});

preloadScreens(window.location.pathname, client);

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={client}>
        <Root />
      </QueryClientProvider>
    </StrictMode>,
  );
}
