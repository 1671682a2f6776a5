import { useQuery } from '@tanstack/react-query';
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Cell, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, call } from '../../api/client';
import { QueryState } from '../../ui/ErrorBox';
import { type MetricsBy, toCharts } from './metrics';
import styles from './Vulns.module.css';

const DAYS = 30;

/**
 * Exposure (open findings per day) and mean time to remediate, split by severity, site or risk
 * tier: the "how exposed are we and how fast do we fix it" strip above the findings.
 */
export function MetricsStrip({ by, onByChange }: { by: MetricsBy; onByChange: (by: MetricsBy) => void }) {
  const metrics = useQuery({
    queryKey: ['vulns', 'metrics', by, DAYS],
    queryFn: () => call(api.GET('/api/v1/vulnerabilities/metrics', { params: { query: { by, days: DAYS } } })),
  });
  const charts = toCharts(metrics.data);
  return (
    <section className={`card ${styles.strip}`} aria-labelledby="vuln-metrics">
      <div className={styles.stripHeader}>
        <h2 id="vuln-metrics">Exposure and time to remediate</h2>
        <label>
          Split by
          <select value={by} onChange={(e) => onByChange(e.target.value as MetricsBy)}>
            <option value="severity">Severity</option>
            <option value="site">Site</option>
            <option value="tier">Risk tier</option>
          </select>
        </label>
      </div>
      <QueryState isLoading={metrics.isLoading} error={metrics.error} />
      {metrics.data ? (
        <div className="grid-2">
          <figure className={styles.figure} aria-label={`Open findings per day, last ${DAYS} days`}>
            <h3>Open findings, last {DAYS} days</h3>
            {charts.exposure.length === 0 ? (
              <p className="muted">No findings in this period.</p>
            ) : (
              <div className="chart">
                <ResponsiveContainer width="100%" height="100%">
                  <AreaChart data={charts.exposure}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="day" tick={{ fontSize: 11 }} />
                    <YAxis allowDecimals={false} width={40} />
                    <Tooltip />
                    <Legend />
                    {charts.series.map((s) => (
                      <Area
                        key={s.dataKey}
                        type="monotone"
                        dataKey={s.dataKey}
                        name={s.name}
                        stackId="exposure"
                        stroke={s.color}
                        fill={s.color}
                        fillOpacity={0.35}
                        isAnimationActive={false}
                      />
                    ))}
                  </AreaChart>
                </ResponsiveContainer>
              </div>
            )}
          </figure>
          <figure className={styles.figure} aria-label="Mean time to remediate, hours">
            <h3>Mean time to remediate (hours)</h3>
            {charts.mttr.length === 0 ? (
              <p className="muted">Nothing remediated in this period.</p>
            ) : (
              <div className="chart">
                <ResponsiveContainer width="100%" height="100%">
                  <BarChart data={charts.mttr}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="name" tick={{ fontSize: 11 }} />
                    <YAxis width={40} />
                    <Tooltip />
                    <Bar dataKey="hours" name="Hours" isAnimationActive={false}>
                      {charts.mttr.map((m) => (
                        <Cell key={m.name} fill={m.color} />
                      ))}
                    </Bar>
                  </BarChart>
                </ResponsiveContainer>
              </div>
            )}
          </figure>
        </div>
      ) : null}
    </section>
  );
}
