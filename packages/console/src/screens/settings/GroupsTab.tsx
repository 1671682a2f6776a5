import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Link } from 'react-router';
import { api, call, type Json } from '../../api/client';
import { useCan } from '../../auth';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox } from '../../ui/ErrorBox';
import { formatCount } from '../../ui/format';
import { SafeText, visibleText } from '../../ui/SafeText';
import styles from './Settings.module.css';

type Group = Json<'/api/v1/groups', 'get'>['items'][number];
type Facet = Json<'/api/v1/hosts/facets', 'get'>['sites'][number];

export const GROUPS_KEY = ['groups'] as const;
const FACETS_KEY = ['hosts', 'facets'] as const;

/** The Hosts screen filtered to one group or site (the name is a query value, encoded). */
export function hostsLink(filter: 'group' | 'site', name: string): string {
  return `/hosts?${new URLSearchParams({ [filter]: name }).toString()}`;
}

const TIER_CHOICES = [5, 4, 3, 2, 1] as const;

export function GroupsTab() {
  const can = useCan();
  const client = useQueryClient();
  const groups = useQuery({ queryKey: GROUPS_KEY, queryFn: () => call(api.GET('/api/v1/groups')) });
  const facets = useQuery({ queryKey: FACETS_KEY, queryFn: () => call(api.GET('/api/v1/hosts/facets')) });
  const setTier = useMutation({
    mutationFn: ({ group, riskTier }: { group: string; riskTier: number | null }) =>
      call(api.PUT('/api/v1/groups/{group}/tier', { params: { path: { group } }, body: { riskTier } })),
    onSettled: async () => {
      await client.invalidateQueries({ queryKey: GROUPS_KEY });
      // Hosts take their tier from their groups: every host list may change.
      await client.invalidateQueries({ queryKey: ['hosts'] });
    },
  });
  const editable = can('vulns:manage');

  const groupColumns: ColumnDef<Group, unknown>[] = [
    {
      id: 'name',
      header: 'Group',
      cell: ({ row }) => (
        <Link to={hostsLink('group', row.original.name)}>
          <SafeText text={row.original.name} max={100} />
        </Link>
      ),
    },
    { id: 'hostCount', header: 'Hosts', cell: ({ row }) => formatCount(row.original.hostCount) },
    {
      id: 'tier',
      header: 'Risk tier',
      cell: ({ row }) => {
        const { name, tier } = row.original;
        if (!editable) return tier === null ? <span className="muted">none</span> : `Tier ${tier}`;
        return (
          <select
            aria-label={`Risk tier of ${visibleText(name)}`}
            value={tier === null ? '' : String(tier)}
            disabled={setTier.isPending}
            onChange={(e) => setTier.mutate({ group: name, riskTier: e.target.value === '' ? null : Number(e.target.value) })}
          >
            <option value="">none</option>
            {TIER_CHOICES.map((t) => (
              <option key={t} value={String(t)}>
                Tier {t}
              </option>
            ))}
          </select>
        );
      },
    },
  ];
  const siteColumns: ColumnDef<Facet, unknown>[] = [
    {
      id: 'name',
      header: 'Site',
      cell: ({ row }) => (
        <Link to={hostsLink('site', row.original.name)}>
          <SafeText text={row.original.name} max={100} />
        </Link>
      ),
    },
    { id: 'count', header: 'Hosts', cell: ({ row }) => formatCount(row.original.count) },
  ];

  return (
    <section className={styles.section} aria-labelledby="settings-groups">
      <h2 id="settings-groups">Groups and sites</h2>
      <p className="muted">
        Groups target deployments, pilot waves, policies and maintenance windows. A host without its own risk tier takes the highest tier of
        its groups (5 matters most), and its vulnerabilities are due by the SLA matrix for that tier. Put a host in groups, or give it a
        site, on its own page.
      </p>
      <ErrorBox error={groups.error} />
      <ErrorBox error={setTier.error} />
      <DataTable
        label="Groups"
        columns={groupColumns}
        data={groups.data?.items ?? []}
        getRowId={(g) => g.name}
        isLoading={groups.isLoading}
        empty="No groups yet."
      />
      <h3>Sites</h3>
      <ErrorBox error={facets.error} />
      <DataTable
        label="Sites"
        columns={siteColumns}
        data={facets.data?.sites ?? []}
        getRowId={(s) => s.name}
        isLoading={facets.isLoading}
        empty="No host has a site yet."
      />
    </section>
  );
}
