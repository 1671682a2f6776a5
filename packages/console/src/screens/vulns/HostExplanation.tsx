import { useQuery } from '@tanstack/react-query';
import { api, call } from '../../api/client';
import { severityBadge } from '../../ui/badges';
import { DataTable } from '../../ui/DataTable';
import { QueryState } from '../../ui/ErrorBox';
import { formatDate, formatRelative } from '../../ui/format';
import { HostLink } from '../../ui/links';
import { SafeText, visibleText } from '../../ui/SafeText';
import type { HostFinding } from './model';
import styles from './Vulns.module.css';

/** open, overdue, or closed with its reason. */
export function findingStatus(f: Pick<HostFinding, 'closedAt' | 'closedReason' | 'overdue'>): { text: string; badge: string } {
  if (f.closedAt) return { text: f.closedReason ? `closed: ${f.closedReason}` : 'closed', badge: 'badge badge-ok' };
  if (f.overdue) return { text: 'overdue', badge: 'badge badge-bad' };
  return { text: 'open', badge: 'badge badge-warn' };
}

function FindingDetail({ finding }: { finding: HostFinding }) {
  const e = finding.explanation;
  const status = findingStatus(finding);
  return (
    <dl className="kv">
      <dt>Package</dt>
      <dd>
        <SafeText text={finding.package} />
      </dd>
      <dt>Installed</dt>
      <dd className="mono">
        <SafeText text={finding.installedVersion} />
      </dd>
      <dt>Fixed in</dt>
      <dd className="mono">
        {finding.fixedVersion ? <SafeText text={finding.fixedVersion} /> : <span className="muted">no fix yet</span>}
      </dd>
      <dt>Status</dt>
      <dd>
        <span className={status.badge}>
          <SafeText text={status.text} />
        </span>
      </dd>
      <dt>Due</dt>
      <dd>
        {formatDate(finding.dueAt)} <span className="muted">({formatRelative(finding.dueAt)})</span>
      </dd>
      <dt>Severity</dt>
      <dd>
        <span className={severityBadge(finding.severity)}>
          <SafeText text={finding.severity} />
        </span>{' '}
        <SafeText text={finding.severityDetail} max={200} /> <span className="muted">(risk tier {finding.riskTier})</span>
      </dd>
      <dt>Matched</dt>
      <dd>
        <SafeText text={`${e.ecosystem} package ${e.package} by ${e.matchedBy}`} />
      </dd>
      <dt>Compared version</dt>
      <dd className="mono">
        <SafeText text={e.comparedVersion} />
      </dd>
      <dt>Affected range</dt>
      <dd className="mono">
        <SafeText text={e.range} max={300} />
      </dd>
      <dt>Decision</dt>
      <dd>
        <SafeText text={e.decision} max={400} />
      </dd>
      {e.endOfLife ? (
        <>
          <dt>End of life</dt>
          <dd>
            <span className="badge badge-bad">the release is past its end of life: no fix will come</span>
          </dd>
        </>
      ) : null}
      <dt>First seen</dt>
      <dd>{formatDate(finding.firstSeenAt)}</dd>
    </dl>
  );
}

/** Why one host is, or is not, affected by a record (GET /hosts/{id}/vulnerabilities/{record}). */
export function HostExplanation({ hostId, hostname, record }: { hostId: string; hostname: string; record: string }) {
  const explain = useQuery({
    queryKey: ['vulns', 'explain', hostId, record],
    queryFn: () => call(api.GET('/api/v1/hosts/{id}/vulnerabilities/{record}', { params: { path: { id: hostId, record } } })),
  });
  const data = explain.data;
  return (
    <section className={`card ${styles.explain}`} aria-label={`Why ${visibleText(hostname)}`}>
      <h3>
        Why <HostLink id={hostId} hostname={hostname} max={80} />
        {data ? (data.findings.some((f) => !f.closedAt) ? ' is affected' : ' is not affected') : ''}
      </h3>
      <QueryState isLoading={explain.isLoading} error={explain.error} />
      {data ? (
        <>
          <p className="muted">
            Ecosystem: <SafeText text={data.host.ecosystem ?? 'unknown (the host has not reported its operating system)'} />
          </p>
          {data.findings.map((f) => (
            <FindingDetail key={`${f.source}:${f.id}:${f.package}`} finding={f} />
          ))}
          {data.notAffected.length > 0 ? (
            <DataTable
              label="Not affected"
              columns={[
                { id: 'package', header: 'Package', cell: ({ row }) => <SafeText text={row.original.package} /> },
                { id: 'installed', header: 'Installed', cell: ({ row }) => <SafeText text={row.original.installedVersion} /> },
                { id: 'record', header: 'Record', cell: ({ row }) => <SafeText text={`${row.original.source}: ${row.original.record}`} /> },
                { id: 'reason', header: 'Why not', cell: ({ row }) => <SafeText text={row.original.reason} max={300} /> },
              ]}
              data={data.notAffected}
            />
          ) : null}
          {data.findings.length === 0 && data.notAffected.length === 0 ? <p>This host has no package that the record names.</p> : null}
        </>
      ) : null}
    </section>
  );
}
