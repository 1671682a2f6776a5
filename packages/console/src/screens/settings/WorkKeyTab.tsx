import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { api, call, type Json } from '../../api/client';
import { useCan } from '../../auth';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatDate, formatRelative } from '../../ui/format';
import { ConfirmButton } from '../../ui/parts';
import { SafeText } from '../../ui/SafeText';
import styles from './Settings.module.css';

type WorkKey = Json<'/api/v1/work-key', 'get'>;
type Certificate = WorkKey['current'];

const KEY = ['work-key'] as const;

const retiredColumns: ColumnDef<Certificate, unknown>[] = [
  {
    id: 'keyId',
    header: 'Fingerprint',
    cell: ({ row }) => (
      <span className="mono">
        <SafeText text={row.original.keyId} />
      </span>
    ),
  },
  { id: 'notBefore', header: 'Valid from', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.notBefore)}</span> },
  {
    id: 'notAfter',
    header: 'Valid until',
    cell: ({ row }) => (
      <span className="nowrap">
        {formatDate(row.original.notAfter)} ({formatRelative(row.original.notAfter)})
      </span>
    ),
  },
];

export function WorkKeyTab() {
  const can = useCan();
  const client = useQueryClient();
  const key = useQuery({ queryKey: KEY, queryFn: () => call(api.GET('/api/v1/work-key')) });
  const rotate = useMutation({
    mutationFn: () => call(api.POST('/api/v1/work-key/rotate')),
    onSuccess: (next) => client.setQueryData(KEY, next),
  });
  const current = key.data?.current;
  return (
    <section className={styles.section} aria-labelledby="settings-work-key">
      <h2 id="settings-work-key">Work key</h2>
      <p className="muted">
        The key that signs the work agents run (deployments, policies, quarantine orders). It is certified by the server identity agents
        pinned at enrolment, so rotating it needs nothing from the agents: work signed before stays valid until the retired certificate
        lapses. Another server replica keeps using the key it loaded until it restarts.
      </p>
      <QueryState isLoading={key.isLoading} error={key.error} />
      {current ? (
        <div className="card">
          <h3>Current key</h3>
          <dl className="kv">
            <dt>Fingerprint (key ID)</dt>
            <dd className="mono">
              <SafeText text={current.keyId} />
            </dd>
            <dt>Valid from</dt>
            <dd>{formatDate(current.notBefore)}</dd>
            <dt>Valid until</dt>
            <dd>
              {formatDate(current.notAfter)} ({formatRelative(current.notAfter)})
            </dd>
          </dl>
          {can('settings:manage') ? (
            <p>
              <ConfirmButton
                label="Rotate work key"
                question="Replace the work-signing key with a new one now?"
                confirmLabel="Yes, rotate"
                disabled={rotate.isPending}
                onConfirm={() => rotate.mutate()}
              />
            </p>
          ) : null}
          <ErrorBox error={rotate.error} />
          {rotate.isSuccess ? (
            <p className="notice" role="status">
              Rotated. New work is signed with the new key.
            </p>
          ) : null}
        </div>
      ) : null}
      {key.data ? (
        <>
          <h3>Retired keys</h3>
          <DataTable
            label="Retired work keys"
            columns={retiredColumns}
            data={key.data.retired}
            getRowId={(c) => c.keyId}
            empty="No retired keys."
          />
        </>
      ) : null}
    </section>
  );
}
