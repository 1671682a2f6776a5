import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { type FormEvent, useState } from 'react';
import { api, call } from '../../api/client';
import { Can, useCan } from '../../auth';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatDate, formatRelative } from '../../ui/format';
import { ConfirmButton, FormProblems } from '../../ui/parts';
import { SafeText } from '../../ui/SafeText';
import type { FeedSchedule } from './model';

const FEEDS_KEY = ['vulns', 'feeds'] as const;

type FeedKind = 'osv' | 'debian-tracker';

/** What the server takes as a feed location (the CLI's check): an http(s) URL or an absolute path. */
export function feedProblems(location: string, cron: string): string[] {
  const problems: string[] = [];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  const control = /[\u0000-\u001f\u007f]/;
  if (location === '' || location.length > 2000 || control.test(location))
    problems.push('Location is 1 to 2000 characters without control characters');
  else if (!/^https?:\/\//i.test(location) && !location.startsWith('/'))
    problems.push('Location must be an http(s) URL or an absolute path on the server');
  if (cron.length < 9 || cron.length > 100 || control.test(cron)) problems.push('Schedule is a cron expression such as "0 3 * * *"');
  return problems;
}

function AddFeed() {
  const client = useQueryClient();
  const [kind, setKind] = useState<FeedKind>('osv');
  const [location, setLocation] = useState('');
  const [cron, setCron] = useState('0 3 * * *');
  const [problems, setProblems] = useState<string[]>([]);
  const add = useMutation({
    mutationFn: () => call(api.POST('/api/v1/vulnerabilities/feeds', { body: { kind, location: location.trim(), cron: cron.trim() } })),
    onSuccess: async () => {
      setLocation('');
      await client.invalidateQueries({ queryKey: FEEDS_KEY });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = feedProblems(location.trim(), cron.trim());
    setProblems(found);
    if (found.length === 0) add.mutate();
  };
  return (
    <form className="card stack" onSubmit={submit} aria-label="Schedule a feed">
      <h3>Schedule a feed</h3>
      <label>
        Feed kind
        <select value={kind} onChange={(e) => setKind(e.target.value as FeedKind)}>
          <option value="osv">OSV (JSON record, array or osv.dev zip)</option>
          <option value="debian-tracker">Debian security tracker JSON</option>
        </select>
      </label>
      <label>
        Location
        <input
          value={location}
          onChange={(e) => setLocation(e.target.value)}
          maxLength={2000}
          placeholder="https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip"
          required
        />
      </label>
      <label>
        Schedule (cron, UTC)
        <input value={cron} onChange={(e) => setCron(e.target.value)} maxLength={100} className="mono" required />
      </label>
      <FormProblems problems={problems} />
      <ErrorBox error={add.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={add.isPending}>
          {add.isPending ? 'Adding…' : 'Add feed'}
        </button>
      </div>
    </form>
  );
}

/** Feeds the server imports by itself on a cron schedule; scheduling one is an administrator's. */
export function FeedsTab() {
  const client = useQueryClient();
  const can = useCan();
  const feeds = useQuery({ queryKey: FEEDS_KEY, queryFn: () => call(api.GET('/api/v1/vulnerabilities/feeds')) });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/v1/vulnerabilities/feeds/{id}', { params: { path: { id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: FEEDS_KEY }),
  });
  const columns: ColumnDef<FeedSchedule, unknown>[] = [
    { id: 'kind', header: 'Kind', cell: ({ row }) => <SafeText text={row.original.kind} /> },
    {
      id: 'location',
      header: 'Location',
      cell: ({ row }) => (
        <span className="mono">
          <SafeText text={row.original.location} max={120} />
        </span>
      ),
    },
    {
      id: 'cron',
      header: 'Schedule (UTC)',
      cell: ({ row }) => (
        <span className="mono">
          <SafeText text={row.original.cron} />
        </span>
      ),
    },
    {
      id: 'lastRun',
      header: 'Last run',
      cell: ({ row }) =>
        row.original.lastRunAt ? (
          <span title={formatDate(row.original.lastRunAt)}>{formatRelative(row.original.lastRunAt)}</span>
        ) : (
          <span className="muted">never</span>
        ),
    },
    { id: 'created', header: 'Added', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.createdAt)}</span> },
    ...(can('settings:manage')
      ? [
          {
            id: 'actions',
            header: '',
            cell: ({ row }) => (
              <ConfirmButton
                label="Remove"
                question="Stop importing this feed? Records it imported stay."
                confirmLabel="Remove feed"
                disabled={remove.isPending}
                onConfirm={() => remove.mutate(row.original.id)}
              />
            ),
          } satisfies ColumnDef<FeedSchedule, unknown>,
        ]
      : []),
  ];
  return (
    <>
      <p className="muted">The server imports these feeds by itself on their schedule. Records a feed imported stay when it is removed.</p>
      <QueryState isLoading={false} error={feeds.error} />
      <ErrorBox error={remove.error} />
      <DataTable
        label="Scheduled feeds"
        columns={columns}
        data={feeds.data?.items ?? []}
        getRowId={(f) => f.id}
        isLoading={feeds.isLoading}
        empty="No scheduled feeds."
      />
      <Can permission="settings:manage">
        <AddFeed />
      </Can>
    </>
  );
}
