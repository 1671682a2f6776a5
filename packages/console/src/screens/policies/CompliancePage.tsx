import { useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useState } from 'react';
import { Link } from 'react-router';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, call, type Json } from '../../api/client';
import { complianceBadge } from '../../ui/badges';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { QueryState } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { HostPicker } from '../../ui/HostPicker';
import { HostLink } from '../../ui/links';
import { SafeText } from '../../ui/SafeText';
import { complianceChartRows, compliantPercent, STATUSES } from './compliance';
import { ModeBadge } from './parts';
import { RULE_KINDS } from './rule-form';

type FleetItem = Json<'/api/v1/compliance', 'get'>['items'][number];
type HostItem = Json<'/api/v1/hosts/{id}/compliance', 'get'>['items'][number];

const CHART_POLICIES = 20;

const columns: ColumnDef<FleetItem, unknown>[] = [
  {
    id: 'policy',
    header: 'Policy',
    cell: ({ row }) => (
      <Link to={`/policies/${encodeURIComponent(row.original.policy.id)}`}>
        <SafeText text={row.original.policy.name} max={80} />
      </Link>
    ),
  },
  { id: 'mode', header: 'Mode', cell: ({ row }) => <ModeBadge mode={row.original.policy.mode} /> },
  { id: 'version', header: 'Version', cell: ({ row }) => row.original.policy.version },
  { id: 'total', header: 'Hosts', cell: ({ row }) => formatCount(row.original.hosts.total) },
  ...STATUSES.map(
    (s): ColumnDef<FleetItem, unknown> => ({
      id: s.key,
      header: s.label,
      cell: ({ row }) => {
        const n = row.original.hosts[s.key];
        return n > 0 && s.key !== 'compliant' && s.key !== 'unknown' ? (
          <span className={complianceBadge(s.key)}>{formatCount(n)}</span>
        ) : (
          formatCount(n)
        );
      },
    }),
  ),
  {
    id: 'percent',
    header: '% compliant',
    cell: ({ row }) => {
      const p = compliantPercent(row.original.hosts);
      return p === null ? <span className="muted">no reports</span> : `${p}%`;
    },
  },
];

const hostColumns: ColumnDef<HostItem, unknown>[] = [
  {
    id: 'policy',
    header: 'Policy',
    cell: ({ row }) => (
      <Link to={`/policies/${encodeURIComponent(row.original.policy.id)}`}>
        <SafeText text={row.original.policy.name} max={60} />
      </Link>
    ),
  },
  {
    id: 'rule',
    header: 'Rule',
    cell: ({ row }) =>
      `${row.original.rule.index + 1}: ${RULE_KINDS.find((k) => k.kind === row.original.rule.kind)?.label ?? row.original.rule.kind}`,
  },
  {
    id: 'status',
    header: 'Status',
    cell: ({ row }) => (
      <span className={complianceBadge(row.original.status)}>
        <SafeText text={row.original.status} />
      </span>
    ),
  },
  { id: 'detail', header: 'Detail', cell: ({ row }) => <SafeText text={row.original.detail} max={200} /> },
  {
    id: 'checked',
    header: 'Checked',
    cell: ({ row }) => (
      <span className="nowrap" title={formatDate(row.original.checkedAt)}>
        {formatRelative(row.original.checkedAt)}
      </span>
    ),
  },
  { id: 'since', header: 'Since', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.sinceAt)}</span> },
  { id: 'version', header: 'Policy version', cell: ({ row }) => row.original.policy.version },
];

function HostCompliance({ host }: { host: { id: string; hostname: string } }) {
  const result = useQuery({
    queryKey: ['compliance', 'host', host.id],
    queryFn: () => call(api.GET('/api/v1/hosts/{id}/compliance', { params: { path: { id: host.id } } })),
  });
  return (
    <>
      <h3>
        <HostLink id={host.id} hostname={host.hostname} max={80} />
      </h3>
      <QueryState isLoading={false} error={result.error} />
      <DataTable
        label="Host compliance"
        columns={hostColumns}
        data={result.data?.items ?? []}
        getRowId={(r) => `${r.policy.id}:${r.rule.index}`}
        isLoading={result.isLoading}
        empty="No policy results from this host yet."
      />
    </>
  );
}

/** /compliance: per policy, how many of its hosts comply; and every rule's result on one host. */
export function CompliancePage() {
  const fleet = useQuery({ queryKey: ['compliance', 'fleet'], queryFn: () => call(api.GET('/api/v1/compliance')) });
  const [host, setHost] = useState<{ id: string; hostname: string } | null>(null);
  const items = fleet.data?.items ?? [];
  const chart = complianceChartRows(items, CHART_POLICIES);
  const exportCsv = () =>
    downloadCsv(
      'compliance.csv',
      ['policy_id', 'policy', 'mode', 'version', 'hosts', ...STATUSES.map((s) => s.key), 'percent_compliant'],
      items.map((i) => [
        i.policy.id,
        i.policy.name,
        i.policy.mode,
        i.policy.version,
        i.hosts.total,
        ...STATUSES.map((s) => i.hosts[s.key]),
        compliantPercent(i.hosts),
      ]),
    );
  return (
    <>
      <div className="page-header">
        <h1>Compliance</h1>
        <span className="actions">
          <button type="button" onClick={exportCsv} disabled={items.length === 0}>
            Export CSV
          </button>
        </span>
      </div>
      <QueryState isLoading={fleet.isLoading} error={fleet.error} />
      {chart.length > 0 ? (
        <section className="card" aria-labelledby="compliance-chart">
          <h2 id="compliance-chart">
            Hosts per policy{items.length > CHART_POLICIES ? ` (the ${CHART_POLICIES} with most problems)` : ''}
          </h2>
          <figure aria-label="Compliant and noncompliant hosts per policy">
            <div className="chart" style={{ height: Math.max(240, chart.length * 32 + 70) }}>
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={chart} layout="vertical" margin={{ left: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis type="number" allowDecimals={false} />
                  <YAxis type="category" dataKey="name" width={160} tick={{ fontSize: 11 }} />
                  <Tooltip />
                  <Legend />
                  {STATUSES.map((s) => (
                    <Bar key={s.key} dataKey={s.key} name={s.label} stackId="hosts" fill={s.color} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </div>
          </figure>
        </section>
      ) : null}
      <h2>By policy</h2>
      <DataTable
        label="Compliance"
        columns={columns}
        data={items}
        getRowId={(i) => i.policy.id}
        isLoading={fleet.isLoading}
        empty="No policies yet."
      />
      <h2>By host</h2>
      <div className="card">
        <HostPicker label="Host" pickLabel="Show" onPick={(h) => setHost({ id: h.id, hostname: h.hostname })} />
        {host ? <HostCompliance host={host} /> : <p className="muted">Find a host to see the result of every rule on it.</p>}
      </div>
    </>
  );
}
