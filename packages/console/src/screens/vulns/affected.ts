import { ApiError, api, call } from '../../api/client';
import { affectedPage, type OverdueFinding } from './model';

/**
 * The hosts with an open finding of one record. The route is requested from the server (see the
 * console report): GET /api/v1/vulnerabilities/{record}/hosts?limit&offset answering a Page of the
 * same items as /vulnerabilities/overdue (a finding plus hostId and hostname), most urgent first.
 * Until it is in schema.d.ts the call goes through an untyped view of the one client, the answer
 * is checked item by item (affectedPage), and a server without the route gives null: the screen
 * then offers the per-host explanation only.
 */
export const AFFECTED_ROUTE = '/api/v1/vulnerabilities/{record}/hosts';

type UntypedGet = (
  path: string,
  init: { params: { path: { record: string }; query: { limit: number; offset: number } } },
) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

export async function fetchAffectedHosts(
  record: string,
  limit: number,
  offset: number,
): Promise<{ total: number; items: OverdueFinding[] } | null> {
  // The cast only widens the path type (the route is not in the generated schema yet).
  const get = api.GET as unknown as UntypedGet;
  try {
    return affectedPage(await call(get(AFFECTED_ROUTE, { params: { path: { record }, query: { limit, offset } } })));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && /no route/i.test(error.message)) return null;
    throw error;
  }
}
