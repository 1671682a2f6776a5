import { api, call } from '../../api/client';

export const DASHBOARD_KEY = ['dashboard'] as const;

/**
 * The dashboard's one request. Kept apart from DashboardPage (and its charts library) so the console
 * can start it while the page's chunk is still loading.
 */
export const dashboardQuery = {
  queryKey: DASHBOARD_KEY,
  queryFn: () => call(api.GET('/api/v1/dashboard')),
};
