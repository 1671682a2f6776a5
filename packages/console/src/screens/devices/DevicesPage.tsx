import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useState } from 'react';
import { api, call, type Json } from '../../api/client';
import { useCan } from '../../auth';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { HostLink } from '../../ui/links';
import { SafeText, visibleText } from '../../ui/SafeText';
import { useUrlState } from '../../ui/url-state';
import { macInfo, macKindLabel } from './mac';

type Device = Json<'/api/v1/devices/unmanaged', 'get'>['items'][number];

const LIMIT = 100;
const EXPORT_LIMIT = 1000;
const SEEN_BY_SHOWN = 3;

const INCLUDE = {
  '': 'Unmanaged only',
  known: 'Also devices marked known',
  ignored: 'Also ignored devices',
  'known,ignored': 'Also known and ignored devices',
} as const;
type Include = keyof typeof INCLUDE;
const isInclude = (s: string): s is Include => Object.hasOwn(INCLUDE, s);

function includeQuery(include: Include) {
  return include === '' ? {} : { include };
}

function MarkActions({ device }: { device: Device }) {
  const client = useQueryClient();
  const mark = useMutation({
    mutationFn: (state: 'known' | 'ignored' | null) =>
      call(api.PUT('/api/v1/devices/{mac}/mark', { params: { path: { mac: device.mac } }, body: { state } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['devices'] }),
  });
  const mac = visibleText(device.mac);
  return (
    <div className="actions">
      {device.mark?.state !== 'known' ? (
        <button type="button" disabled={mark.isPending} onClick={() => mark.mutate('known')} aria-label={`Mark ${mac} known`}>
          Mark known
        </button>
      ) : null}
      {device.mark?.state !== 'ignored' ? (
        <button type="button" disabled={mark.isPending} onClick={() => mark.mutate('ignored')} aria-label={`Ignore ${mac}`}>
          Ignore
        </button>
      ) : null}
      {device.mark ? (
        <button type="button" disabled={mark.isPending} onClick={() => mark.mutate(null)} aria-label={`Clear the mark of ${mac}`}>
          Clear mark
        </button>
      ) : null}
      <ErrorBox error={mark.error} />
    </div>
  );
}

function exportRows(items: readonly Device[]) {
  downloadCsv(
    'unmanaged-devices.csv',
    ['mac', 'ip', 'mac_type', 'seen_by', 'first_seen_at', 'last_seen_at', 'mark', 'mark_note', 'marked_by'],
    items.map((d) => [
      d.mac,
      d.ip,
      macKindLabel(macInfo(d.mac)),
      d.seenBy.map((s) => s.hostname).join(' '),
      d.firstSeenAt,
      d.lastSeenAt,
      d.mark?.state,
      d.mark?.note,
      d.mark?.markedBy,
    ]),
  );
}

/** /devices: MAC/IP pairs agents see on their networks that belong to no enrolled host. */
export function DevicesPage() {
  const client = useQueryClient();
  const can = useCan();
  const [state, update] = useUrlState({ include: '', offset: '0' });
  const include: Include = isInclude(state.include) ? state.include : '';
  const offset = Math.max(0, Number.parseInt(state.offset, 10) || 0);
  const query = { limit: LIMIT, offset, ...includeQuery(include) };
  const devices = useQuery({
    queryKey: ['devices', 'unmanaged', query],
    queryFn: () => call(api.GET('/api/v1/devices/unmanaged', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const [exporting, setExporting] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const exportCsv = async () => {
    setExporting({ busy: true, error: null });
    try {
      const q = { limit: EXPORT_LIMIT, offset: 0, ...includeQuery(include) };
      const page = await client.fetchQuery({
        queryKey: ['devices', 'unmanaged', q],
        queryFn: () => call(api.GET('/api/v1/devices/unmanaged', { params: { query: q } })),
      });
      exportRows(page.items);
      setExporting({ busy: false, error: null });
    } catch (error) {
      setExporting({ busy: false, error });
    }
  };
  const items = devices.data?.items ?? [];
  const total = devices.data?.total ?? 0;
  const columns: ColumnDef<Device, unknown>[] = [
    {
      id: 'mac',
      header: 'MAC',
      cell: ({ row }) => (
        <span className="mono nowrap">
          <SafeText text={row.original.mac} />
        </span>
      ),
    },
    {
      id: 'ip',
      header: 'IP address',
      cell: ({ row }) => (
        <span className="mono nowrap">
          <SafeText text={row.original.ip} />
        </span>
      ),
    },
    { id: 'kind', header: 'MAC type', cell: ({ row }) => <span className="muted">{macKindLabel(macInfo(row.original.mac))}</span> },
    {
      id: 'seenBy',
      header: 'Seen by',
      cell: ({ row }) => {
        const seen = row.original.seenBy;
        return (
          <>
            {seen.slice(0, SEEN_BY_SHOWN).map((s, i) => (
              <span key={s.hostId}>
                {i > 0 ? ', ' : ''}
                <HostLink id={s.hostId} hostname={s.hostname} max={40} />
              </span>
            ))}
            {seen.length > SEEN_BY_SHOWN ? <span className="muted"> and {formatCount(seen.length - SEEN_BY_SHOWN)} more</span> : null}
          </>
        );
      },
    },
    {
      id: 'firstSeen',
      header: 'First seen',
      cell: ({ row }) => <span className="nowrap">{formatDate(row.original.firstSeenAt)}</span>,
    },
    {
      id: 'lastSeen',
      header: 'Last seen',
      cell: ({ row }) => (
        <span className="nowrap" title={formatDate(row.original.lastSeenAt)}>
          {formatRelative(row.original.lastSeenAt)}
        </span>
      ),
    },
    ...(include !== ''
      ? [
          {
            id: 'mark',
            header: 'Mark',
            cell: ({ row }) =>
              row.original.mark ? (
                <>
                  <span className={row.original.mark.state === 'known' ? 'badge badge-ok' : 'badge'}>{row.original.mark.state}</span>{' '}
                  <span className="muted">
                    by <SafeText text={row.original.mark.markedBy} />
                  </span>
                  {row.original.mark.note ? (
                    <div>
                      <SafeText text={row.original.mark.note} max={120} />
                    </div>
                  ) : null}
                </>
              ) : (
                <span className="muted">—</span>
              ),
          } satisfies ColumnDef<Device, unknown>,
        ]
      : []),
    ...(can('devices:manage')
      ? [{ id: 'actions', header: '', cell: ({ row }) => <MarkActions device={row.original} /> } satisfies ColumnDef<Device, unknown>]
      : []),
  ];
  return (
    <>
      <div className="page-header">
        <h1>Unmanaged devices</h1>
      </div>
      <p className="muted">
        Addresses the agents see in their neighbour tables that belong to no enrolled host. Mark the expected ones (printers, phones,
        appliances) known, or ignore them, to keep this list to what needs a look.
      </p>
      <div className="toolbar">
        <label>
          Show
          <select value={include} onChange={(e) => update({ include: e.target.value })}>
            {Object.entries(INCLUDE).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <span className="actions">
          <button type="button" onClick={() => void exportCsv()} disabled={exporting.busy || total === 0}>
            {exporting.busy ? 'Exporting…' : 'Export CSV'}
          </button>
        </span>
      </div>
      <ErrorBox error={exporting.error} />
      <QueryState isLoading={false} error={devices.error} />
      <DataTable
        label="Unmanaged devices"
        columns={columns}
        data={items}
        getRowId={(d) => `${d.mac}|${d.ip}`}
        isLoading={devices.isLoading}
        empty={offset > 0 ? 'No more devices.' : 'No unmanaged devices seen.'}
        paging={{ offset, limit: LIMIT, total, onOffsetChange: (o) => update({ offset: String(o) }) }}
      />
      {total > EXPORT_LIMIT ? (
        <p className="muted">
          CSV export holds the {formatCount(EXPORT_LIMIT)} most recently seen of {formatCount(total)} devices.
        </p>
      ) : null}
    </>
  );
}
