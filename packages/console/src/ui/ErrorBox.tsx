import { ApiError } from '../api/client';
import { SafeText } from './SafeText';

/** A failed request, as the server explained it (problem+json title and detail). */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const status = error instanceof ApiError ? error.status : null;
  return (
    <div className="error-box" role="alert">
      {status ? <strong>{status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Request failed'}: </strong> : null}
      <SafeText text={message} />
    </div>
  );
}

/** Loading / error / empty states of a query in one place. */
export function QueryState({ isLoading, error }: { isLoading: boolean; error: unknown }) {
  if (error) return <ErrorBox error={error} />;
  if (isLoading)
    return (
      <p className="muted" aria-busy="true">
        Loading…
      </p>
    );
  return null;
}
