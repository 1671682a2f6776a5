import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { type FormEvent, useId, useMemo, useState } from 'react';
import { api, call, type Json } from '../../api/client';
import { useCan } from '../../auth';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox } from '../../ui/ErrorBox';
import { formatDate, formatRelative } from '../../ui/format';
import { ConfirmButton, Field, FormProblems } from '../../ui/parts';
import { SafeText } from '../../ui/SafeText';
import { GROUPS_KEY } from './GroupsTab';
import styles from './Settings.module.css';
import { formatMinutes, MAX_WINDOW_MINUTES, type WindowBody, type WindowForm, windowFromForm } from './windows';

type MaintenanceWindow = Json<'/api/v1/maintenance-windows', 'get'>['items'][number];

const KEY = ['maintenance-windows'] as const;

const FIELD_NAMES: Record<keyof WindowForm, string> = {
  group: 'group',
  cron: 'schedule',
  durationMinutes: 'duration',
  timeZone: 'time zone',
};

function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export function WindowsTab() {
  const can = useCan();
  const client = useQueryClient();
  const windows = useQuery({ queryKey: KEY, queryFn: () => call(api.GET('/api/v1/maintenance-windows')) });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/v1/maintenance-windows/{id}', { params: { path: { id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: KEY }),
  });
  const manage = can('groups:manage');
  const columns: ColumnDef<MaintenanceWindow, unknown>[] = [
    { id: 'group', header: 'Group', cell: ({ row }) => <SafeText text={row.original.group} max={100} /> },
    {
      id: 'cron',
      header: 'Schedule',
      cell: ({ row }) => (
        <code>
          <SafeText text={row.original.cron} />
        </code>
      ),
    },
    {
      id: 'duration',
      header: 'Duration',
      cell: ({ row }) => <span className="nowrap">{formatMinutes(row.original.durationMinutes)}</span>,
    },
    { id: 'timeZone', header: 'Time zone', cell: ({ row }) => <SafeText text={row.original.timeZone} /> },
    {
      id: 'next',
      header: 'Next opening',
      cell: ({ row }) =>
        row.original.nextOpeningAt ? (
          <span className="nowrap" title={formatDate(row.original.nextOpeningAt)}>
            {formatDate(row.original.nextOpeningAt)} ({formatRelative(row.original.nextOpeningAt)})
          </span>
        ) : (
          <span className="muted">none</span>
        ),
    },
    ...(manage
      ? [
          {
            id: 'actions',
            header: 'Actions',
            cell: ({ row }) => (
              <ConfirmButton
                label="Delete"
                question="Delete this window? Its group’s hosts take work at any time unless another window remains."
                confirmLabel="Yes, delete"
                disabled={remove.isPending}
                onConfirm={() => remove.mutate(row.original.id)}
              />
            ),
          } satisfies ColumnDef<MaintenanceWindow, unknown>,
        ]
      : []),
  ];
  return (
    <section className={styles.section} aria-labelledby="settings-windows">
      <h2 id="settings-windows">Maintenance windows</h2>
      <p className="muted">
        Work for a host whose groups have windows is offered only while one of them is open. A window opens at every time its cron schedule
        fires (on the wall clock of its time zone) and stays open for its duration. Emergency deployments ignore windows.
      </p>
      <ErrorBox error={windows.error} />
      <ErrorBox error={remove.error} />
      <DataTable
        label="Maintenance windows"
        columns={columns}
        data={windows.data?.items ?? []}
        getRowId={(w) => w.id}
        isLoading={windows.isLoading}
        empty="No maintenance windows: hosts take work at any time."
      />
      {manage ? <CreateWindow /> : null}
    </section>
  );
}

function CreateWindow() {
  const client = useQueryClient();
  const groupsListId = useId();
  const zonesListId = useId();
  const groups = useQuery({ queryKey: GROUPS_KEY, queryFn: () => call(api.GET('/api/v1/groups')) });
  const zones = useMemo(() => {
    try {
      return Intl.supportedValuesOf('timeZone');
    } catch {
      return [];
    }
  }, []);
  const [form, setForm] = useState<WindowForm>({ group: '', cron: '0 2 * * 6', durationMinutes: '120', timeZone: browserTimeZone() });
  const [problems, setProblems] = useState<string[]>([]);
  const create = useMutation({
    mutationFn: (body: WindowBody) => call(api.POST('/api/v1/maintenance-windows', { body })),
    onSuccess: async () => {
      setForm((f) => ({ ...f, group: '' }));
      await client.invalidateQueries({ queryKey: KEY });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = windowFromForm(form);
    setProblems(
      result.ok ? [] : (Object.entries(result.problems) as Array<[keyof WindowForm, string]>).map(([k, m]) => `${FIELD_NAMES[k]}: ${m}`),
    );
    if (result.ok) create.mutate(result.body);
  };
  return (
    <form className={`stack card ${styles.formCard}`} onSubmit={submit} aria-labelledby="create-window-heading" noValidate>
      <h3 id="create-window-heading">Add maintenance window</h3>
      <Field label="Group">
        {(control) => (
          <input
            {...control}
            name="group"
            list={groupsListId}
            value={form.group}
            maxLength={100}
            required
            onChange={(e) => setForm({ ...form, group: e.target.value })}
          />
        )}
      </Field>
      <datalist id={groupsListId}>
        {(groups.data?.items ?? []).map((g) => (
          <option key={g.name} value={g.name} />
        ))}
      </datalist>
      <Field label="Schedule (cron)" hint="Five fields: minute hour day-of-month month day-of-week. 0 2 * * 6 is Saturdays at 02:00.">
        {(control) => (
          <input
            {...control}
            name="cron"
            className="mono"
            value={form.cron}
            maxLength={200}
            required
            onChange={(e) => setForm({ ...form, cron: e.target.value })}
          />
        )}
      </Field>
      <Field label="Duration (minutes)">
        {(control) => (
          <input
            {...control}
            name="durationMinutes"
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_WINDOW_MINUTES}
            step={1}
            value={form.durationMinutes}
            required
            onChange={(e) => setForm({ ...form, durationMinutes: e.target.value })}
          />
        )}
      </Field>
      <Field label="Time zone">
        {(control) => (
          <input
            {...control}
            name="timeZone"
            list={zonesListId}
            value={form.timeZone}
            maxLength={100}
            required
            onChange={(e) => setForm({ ...form, timeZone: e.target.value })}
          />
        )}
      </Field>
      <datalist id={zonesListId}>
        {zones.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
      <FormProblems problems={problems} />
      <ErrorBox error={create.error} />
      <div>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Adding…' : 'Add window'}
        </button>
      </div>
    </form>
  );
}
