import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef } from 'react';
import { Link, useNavigate } from 'react-router';
import {
  Bar,
  BarChart,
  type BarShapeProps,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  Pie,
  PieChart,
  Rectangle,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { Json } from '../../api/client';
import { useLive } from '../../api/live';
import { StateBadge } from '../../ui/badges';
import { QueryState } from '../../ui/ErrorBox';
import { formatCount } from '../../ui/format';
import { SafeText, visibleText } from '../../ui/SafeText';
import styles from './Dashboard.module.css';
import {
  COLORS,
  COMPLIANCE_STATUSES,
  type CountBar,
  complianceSeries,
  findingsSeries,
  fleetSeries,
  formatShare,
  hasRemediationActivity,
  latestMedian,
  overdueSeries,
  progressSegments,
  progressText,
  remediationSeries,
  updatedText,
  waveText,
} from './dashboard-data';
import { DASHBOARD_KEY, dashboardQuery } from './dashboard-query';

type Dashboard = Json<'/api/v1/dashboard', 'get'>;

/** How many deployments in flight the card lists before pointing at the Deployments screen. */
const MAX_DEPLOYMENTS = 8;

/**
 * The operator's first look: how exposed the fleet is, what is overdue, what is rolling out and
 * whether it is healthy. Charts, all from one request (GET /api/v1/dashboard), refreshed every
 * 30 s and whenever the console socket says deployments changed.
 */
export function DashboardPage() {
  const client = useQueryClient();
  const query = useQuery({
    ...dashboardQuery,
    refetchInterval: 30_000,
  });

  // A burst of changes (a wave finishing on many hosts) makes one refetch, not one per frame.
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (pending.current) clearTimeout(pending.current);
    },
    [],
  );
  useLive({ topic: 'deployments' }, (message) => {
    if (message.type !== 'deployments.changed' || pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      void client.invalidateQueries({ queryKey: DASHBOARD_KEY });
    }, 1000);
  });

  const data = query.data;
  return (
    <>
      <div className="page-header">
        <h1>Dashboard</h1>
        <div className="actions">
          {query.dataUpdatedAt ? <span className="muted">{updatedText(query.dataUpdatedAt)}</span> : null}
          <button type="button" onClick={() => void query.refetch()} disabled={query.isFetching}>
            Refresh
          </button>
        </div>
      </div>
      <QueryState isLoading={query.isLoading} error={query.error} />
      {data ? (
        <div className="cards">
          <FleetCard hosts={data.hosts} />
          <FindingsCard findings={data.findings} />
          <OverdueCard overdue={data.overdue} />
          <ComplianceCard compliance={data.compliance} />
          <DeploymentsCard deployments={data.deployments} inFlight={data.deploymentsInFlight} />
          <RemediationCard remediation={data.remediation} />
        </div>
      ) : null}
    </>
  );
}

function Card({ title, to, children, span }: { title: string; to: string; children: ReactNode; span?: 'wide' | 'full' }) {
  const className = span === 'wide' ? `card ${styles.wide}` : span === 'full' ? `card ${styles.full}` : 'card';
  return (
    <section className={className} aria-label={title}>
      <div className={styles.cardHeader}>
        <h2>{title}</h2>
        <Link to={to} className="nowrap">
          Open
          <span className={styles.srOnly}> {title}</span> →
        </Link>
      </div>
      {children}
    </section>
  );
}

function Empty({ children }: { children: ReactNode }) {
  return <div className={`${styles.empty} muted`}>{children}</div>;
}

/** The keyboard- and screen-reader-usable twin of a chart's clickable bars: one link per series. */
function LegendLinks({ items }: { items: ReadonlyArray<{ key: string; name: string; count: number; fill: string; href: string }> }) {
  return (
    <ul className={styles.legend}>
      {items.map((item) => (
        <li key={item.key}>
          <Link to={item.href}>
            <span className={styles.swatch} style={{ backgroundColor: item.fill }} aria-hidden="true" />
            {item.name} <strong>{formatCount(item.count)}</strong>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function FleetCard({ hosts }: { hosts: Dashboard['hosts'] }) {
  const fleet = fleetSeries(hosts);
  if (fleet.total === 0)
    return (
      <Card title="Fleet" to="/hosts">
        <Empty>
          <strong>No hosts yet.</strong>
          <span>
            Enrol an agent: <Link to="/settings">Settings → Join tokens</Link> creates the token the agent joins with.
          </span>
        </Empty>
      </Card>
    );
  return (
    <Card title="Fleet" to="/hosts">
      <div className={styles.headline}>
        <div>
          <div className="stat">{formatCount(fleet.total)}</div>
          <div className="stat-label">hosts</div>
        </div>
        <div>
          <div className="stat">{formatShare(fleet.onlineShare)}</div>
          <div className="stat-label">online</div>
        </div>
      </div>
      <div className="chart">
        <ResponsiveContainer width="100%" height="100%">
          <PieChart>
            <Pie data={fleet.slices} dataKey="value" nameKey="name" innerRadius="55%" outerRadius="85%" isAnimationActive={false} />
            <Tooltip />
          </PieChart>
        </ResponsiveContainer>
      </div>
      <LegendLinks
        items={[
          ...fleet.slices.map((s) => ({ key: s.key, name: s.name, count: s.value, fill: s.fill, href: s.href })),
          { key: 'pending', name: 'Pending approval', count: hosts.pending, fill: COLORS.warn, href: '/hosts?status=pending' },
          { key: 'revoked', name: 'Revoked', count: hosts.revoked, fill: COLORS.bad, href: '/hosts?status=revoked' },
        ]}
      />
    </Card>
  );
}

/** A bar chart of counts, one colour per bar, each bar a link. */
function CountBarChart({ data, label }: { data: CountBar[]; label: string }) {
  const navigate = useNavigate();
  return (
    <div className="chart">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="name" />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Bar
            dataKey="count"
            name={label}
            isAnimationActive={false}
            cursor="pointer"
            shape={(props: BarShapeProps) => <Rectangle {...props} fill={(props.payload as CountBar | undefined)?.fill ?? COLORS.info} />}
            onClick={(entry) => {
              const href = (entry.payload as CountBar | undefined)?.href;
              if (href) navigate(href);
            }}
          />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

function FindingsCard({ findings }: { findings: Dashboard['findings'] }) {
  const series = findingsSeries(findings);
  const total = series.reduce((s, b) => s + b.count, 0);
  return (
    <Card title="Open findings by severity" to="/vulnerabilities">
      {total === 0 ? (
        <Empty>
          <strong>No open findings.</strong>
          <span>
            Findings appear once a vulnerability feed is imported: <Link to="/vulnerabilities">Vulnerabilities</Link>.
          </span>
        </Empty>
      ) : (
        <>
          <div className={styles.headline}>
            <div>
              <div className="stat">{formatCount(total)}</div>
              <div className="stat-label">open findings</div>
            </div>
          </div>
          <CountBarChart data={series} label="Open findings" />
        </>
      )}
      <LegendLinks items={series} />
    </Card>
  );
}

function OverdueCard({ overdue }: { overdue: Dashboard['overdue'] }) {
  const series = overdueSeries(overdue);
  const total = series.reduce((s, b) => s + b.count, 0);
  return (
    <Card title="Overdue by risk tier" to="/vulnerabilities?overdue=true">
      {total === 0 ? (
        <Empty>
          <strong>Nothing is overdue.</strong>
          <span>Every open finding is still within its SLA (Settings → SLA matrix sets the due dates).</span>
        </Empty>
      ) : (
        <>
          <div className={styles.headline}>
            <div>
              <div className="stat">{formatCount(total)}</div>
              <div className="stat-label">overdue findings (tier 5 most important)</div>
            </div>
          </div>
          <CountBarChart data={series} label="Overdue findings" />
        </>
      )}
      <LegendLinks items={series} />
    </Card>
  );
}

function ComplianceCard({ compliance }: { compliance: Dashboard['compliance'] }) {
  const navigate = useNavigate();
  const { rows, hidden } = complianceSeries(compliance);
  return (
    <Card title="Compliance by policy" to="/compliance" span="wide">
      {rows.length === 0 ? (
        <Empty>
          <strong>No policies yet.</strong>
          <span>
            Create one under <Link to="/policies">Policies</Link> to see which hosts comply.
          </span>
        </Empty>
      ) : (
        <>
          <div className="chart">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 12, bottom: 0, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                <XAxis type="number" allowDecimals={false} />
                <YAxis type="category" dataKey="label" width={170} />
                <Tooltip />
                <Legend itemSorter={null} />
                {COMPLIANCE_STATUSES.map((s) => (
                  <Bar
                    key={s.key}
                    dataKey={s.key}
                    name={s.name}
                    stackId="hosts"
                    fill={s.fill}
                    isAnimationActive={false}
                    cursor="pointer"
                    onClick={(entry) => {
                      const href = (entry.payload as { href?: string } | undefined)?.href;
                      if (href) navigate(href);
                    }}
                  />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
          <ul className={styles.legend} aria-label="Policies">
            {rows.map((r) => (
              <li key={r.policyId}>
                <Link to={r.href}>
                  <SafeText text={r.fullName} max={40} />{' '}
                  <span className="muted">
                    {formatCount(r.noncompliant)} noncompliant, {formatCount(r.error)} error
                  </span>
                </Link>
              </li>
            ))}
          </ul>
          {hidden > 0 ? (
            <p className="muted">
              {hidden} more {hidden === 1 ? 'policy' : 'policies'}: <Link to="/compliance">all compliance</Link>
            </p>
          ) : null}
        </>
      )}
    </Card>
  );
}

function RemediationCard({ remediation }: { remediation: Dashboard['remediation'] }) {
  const points = remediationSeries(remediation);
  const median = latestMedian(points);
  const opened = points.reduce((s, p) => s + p.opened, 0);
  const closed = points.reduce((s, p) => s + p.closed, 0);
  return (
    <Card title="Time to remediate" to="/vulnerabilities" span="full">
      {!hasRemediationActivity(points) ? (
        <Empty>
          <strong>No findings were opened or closed in the last 30 days.</strong>
          <span>The trend fills in as findings are remediated by deployments.</span>
        </Empty>
      ) : (
        <>
          <div className={styles.headline}>
            <div>
              <div className="stat">{median === null ? '—' : `${median} h`}</div>
              <div className="stat-label">latest median time to remediate</div>
            </div>
            <div>
              <div className="stat">{formatCount(opened)}</div>
              <div className="stat-label">opened (30 days)</div>
            </div>
            <div>
              <div className="stat">{formatCount(closed)}</div>
              <div className="stat-label">closed (30 days)</div>
            </div>
          </div>
          <div className="chart">
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: -8 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="label" minTickGap={16} />
                <YAxis yAxisId="count" allowDecimals={false} />
                <YAxis yAxisId="hours" orientation="right" unit=" h" />
                <Tooltip />
                <Legend itemSorter={null} />
                <Line
                  yAxisId="hours"
                  type="linear"
                  dataKey="median"
                  name="Median hours to remediate"
                  stroke={COLORS.info}
                  strokeWidth={2}
                  dot={false}
                  connectNulls={false}
                  isAnimationActive={false}
                />
                <Line
                  yAxisId="count"
                  type="linear"
                  dataKey="opened"
                  name="Opened"
                  stroke={COLORS.bad}
                  strokeDasharray="4 3"
                  dot={false}
                  isAnimationActive={false}
                />
                <Line
                  yAxisId="count"
                  type="linear"
                  dataKey="closed"
                  name="Closed"
                  stroke={COLORS.ok}
                  dot={false}
                  isAnimationActive={false}
                />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </>
      )}
    </Card>
  );
}

function DeploymentsCard({ deployments, inFlight }: { deployments: Dashboard['deployments']; inFlight: number }) {
  const shown = deployments.slice(0, MAX_DEPLOYMENTS);
  const more = Math.max(inFlight, deployments.length) - shown.length;
  return (
    <Card title="Deployments in flight" to="/deployments">
      {shown.length === 0 ? (
        <Empty>
          <strong>Nothing is rolling out.</strong>
          <span>
            Pick updates under <Link to="/patches">Patches</Link> to start a deployment.
          </span>
        </Empty>
      ) : (
        <ul className={styles.deployments}>
          {shown.map((d) => {
            const segments = progressSegments(d.summary);
            const text = d.summary.total === 0 ? `${formatCount(d.hostCount)} hosts, not started` : progressText(segments);
            const done = segments.filter((s) => s.key !== 'pending' && s.key !== 'inProgress').reduce((sum, s) => sum + s.count, 0);
            return (
              <li key={d.id}>
                <div className={styles.deploymentTitle}>
                  <Link to={`/deployments/${encodeURIComponent(d.id)}`}>
                    <SafeText text={d.name} max={80} />
                  </Link>
                  <span className="nowrap">
                    {d.emergency ? <span className="badge badge-critical">emergency</span> : null}{' '}
                    {d.critical ? <span className="badge badge-bad">critical</span> : null} <StateBadge state={d.state} />
                  </span>
                </div>
                <div
                  className="progress"
                  role="progressbar"
                  aria-label={`Progress of ${visibleText(d.name)}`}
                  aria-valuemin={0}
                  aria-valuemax={Math.max(1, d.summary.total)}
                  aria-valuenow={done}
                  aria-valuetext={text}
                  title={text}
                >
                  {segments
                    .filter((s) => s.count > 0)
                    .map((s) => (
                      <span key={s.key} style={{ width: `${s.percent}%`, backgroundColor: s.color }} />
                    ))}
                </div>
                <div className={`${styles.deploymentMeta} muted`}>
                  {text}
                  {waveText(d.waves)}
                  {d.stateReason ? (
                    <>
                      {' · '}
                      <SafeText text={d.stateReason} max={160} />
                    </>
                  ) : null}
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {more > 0 ? (
        <p className="muted">
          {formatCount(more)} more in flight: <Link to="/deployments">all deployments</Link>
        </p>
      ) : null}
    </Card>
  );
}
