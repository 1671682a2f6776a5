import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type KeyboardEvent, useId, useState } from 'react';
import { api, call } from '../../api/client';
import { formatCount, formatDate } from '../../ui/format';
import { SafeText, visibleText } from '../../ui/SafeText';
import { useDebounced } from '../../ui/use-debounced';
import styles from './Deployments.module.css';
import { appendPackage } from './form';
import { parsePackageList } from './model';

const SEARCH_LIMIT = 10;

/** Enter in a search box adds, never submits the whole form. */
function onEnter(action: () => void) {
  return (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      action();
    }
  };
}

// ------------------------------------------------------------------------------------ packages

/** Packages: typed as specs, or picked from the fleet catalogue (searched on the server). */
export function PackagePicker({ value, onChange }: { value: string; onChange: (next: string) => void }) {
  const [q, setQ] = useState('');
  const hintId = useId();
  const fieldId = useId();
  const search = useDebounced(q.trim());
  const catalogue = useQuery({
    queryKey: ['patches', 'picker', search],
    queryFn: () => call(api.GET('/api/v1/patches', { params: { query: { q: search, limit: SEARCH_LIMIT, offset: 0 } } })),
    enabled: search !== '',
    placeholderData: keepPreviousData,
  });
  const parsed = parsePackageList(value);
  const picked = new Set(parsed.packages.map((p) => p.name));
  return (
    <fieldset>
      <legend>What to install</legend>
      <div className={styles.field}>
        <label htmlFor={fieldId}>Packages</label>
        <textarea
          id={fieldId}
          value={value}
          rows={2}
          onChange={(e) => onChange(e.target.value)}
          placeholder="openssl, curl>=7.88.1-10+deb12u5, tzdata=2024a-0+deb12u1"
          aria-describedby={hintId}
          spellCheck={false}
        />
      </div>
      <p id={hintId} className={styles.hint}>
        Separated by commas or lines: <code>name</code> installs the latest available, <code>name=version</code> pins a version,{' '}
        <code>name&gt;=version</code> installs the latest and checks it is at least that version.
      </p>
      {parsed.problems.length > 0 ? (
        <ul className={`error-box ${styles.problems}`}>
          {parsed.problems.map((p) => (
            <li key={p}>
              <SafeText text={p} />
            </li>
          ))}
        </ul>
      ) : null}
      <label>
        Find in the patch catalogue
        <input
          type="search"
          value={q}
          maxLength={200}
          onChange={(e) => setQ(e.target.value)}
          onKeyDown={onEnter(() => {})}
          placeholder="Package, title or advisory"
        />
      </label>
      {search !== '' && catalogue.data ? (
        catalogue.data.items.length === 0 ? (
          <p className={styles.hint}>No pending update matches.</p>
        ) : (
          <ul className={styles.results} aria-label="Matching catalogue entries">
            {catalogue.data.items.map((p) => (
              <li key={`${p.ecosystem}\n${p.name}\n${p.candidateVersion}`}>
                <span>
                  <code>
                    <SafeText text={p.name} />
                  </code>{' '}
                  <SafeText text={p.candidateVersion} /> <span className="muted">on {formatCount(p.hostCount)} hosts</span>{' '}
                  {p.security ? <span className="badge badge-bad">security</span> : null}
                </span>
                <button
                  type="button"
                  disabled={picked.has(p.name)}
                  aria-label={`Add ${visibleText(p.name)} ${visibleText(p.candidateVersion)}`}
                  onClick={() => onChange(appendPackage(value, p.name))}
                >
                  {picked.has(p.name) ? 'Added' : 'Add'}
                </button>
              </li>
            ))}
          </ul>
        )
      ) : null}
      {catalogue.error ? <p className="error-box">The catalogue could not be searched.</p> : null}
    </fieldset>
  );
}

// ------------------------------------------------------------------------------------ targets

/** How many selected hosts are shown by name; more are counted. */
const SHOWN_HOSTS = 50;

function HostChip({ id, name, onRemove }: { id: string; name: string | undefined; onRemove: () => void }) {
  // A host prefilled by id (a link from another screen) is looked up for its name.
  const host = useQuery({
    queryKey: ['host', id],
    queryFn: () => call(api.GET('/api/v1/hosts/{id}', { params: { path: { id } } })),
    enabled: name === undefined,
    staleTime: 60_000,
    retry: false,
  });
  const label = name ?? host.data?.hostname;
  return (
    <li className={styles.chip}>
      {label !== undefined ? (
        <SafeText text={label} />
      ) : host.error ? (
        <span className="muted">unknown host {id}</span>
      ) : (
        <span className="mono">{id}</span>
      )}
      <button type="button" aria-label={`Remove host ${label !== undefined ? visibleText(label) : id}`} onClick={onRemove}>
        ×
      </button>
    </li>
  );
}

/** Targets: hosts found through a server-side search, and/or groups. */
export function TargetPicker({
  hostIds,
  groups,
  onHostsChange,
  onGroupsChange,
}: {
  hostIds: string[];
  groups: string[];
  onHostsChange: (next: string[]) => void;
  onGroupsChange: (next: string[]) => void;
}) {
  const [q, setQ] = useState('');
  const [group, setGroup] = useState('');
  const [names, setNames] = useState<Record<string, string>>({});
  const listId = useId();
  const search = useDebounced(q.trim());
  const hosts = useQuery({
    queryKey: ['hosts', 'picker', search],
    queryFn: () =>
      call(
        api.GET('/api/v1/hosts', {
          params: { query: { q: search, status: 'approved', sort: 'hostname', order: 'asc', limit: SEARCH_LIMIT, offset: 0 } },
        }),
      ),
    enabled: search !== '',
    placeholderData: keepPreviousData,
  });
  const groupList = useQuery({
    queryKey: ['groups'],
    queryFn: () => call(api.GET('/api/v1/groups')),
    staleTime: 60_000,
  });
  const selected = new Set(hostIds);
  const addHost = (h: { id: string; hostname: string }) => {
    if (selected.has(h.id)) return;
    setNames((n) => ({ ...n, [h.id]: h.hostname }));
    onHostsChange([...hostIds, h.id]);
  };
  /** Enter adds the host whose name is exactly what was typed, or the only match. */
  const addExact = () => {
    const items = search === q.trim() ? (hosts.data?.items ?? []) : [];
    const exact = items.filter((h) => h.hostname === q.trim() || h.id === q.trim());
    const pick = exact.length === 1 ? exact[0] : items.length === 1 ? items[0] : undefined;
    if (pick) {
      addHost(pick);
      setQ('');
    }
  };
  const addGroup = () => {
    const g = group.trim();
    if (g === '' || groups.includes(g)) return;
    onGroupsChange([...groups, g]);
    setGroup('');
  };
  return (
    <fieldset>
      <legend>Targets</legend>
      <p className={styles.hint}>Hosts and groups add up; a host in several is targeted once. Only approved hosts receive work.</p>
      {hostIds.length > 0 ? (
        <>
          <ul className={styles.chips} aria-label="Selected hosts">
            {hostIds.slice(0, SHOWN_HOSTS).map((id) => (
              <HostChip key={id} id={id} name={names[id]} onRemove={() => onHostsChange(hostIds.filter((h) => h !== id))} />
            ))}
          </ul>
          {hostIds.length > SHOWN_HOSTS ? (
            <p className={styles.hint}>
              and {formatCount(hostIds.length - SHOWN_HOSTS)} more hosts.{' '}
              <button type="button" className="link-button" onClick={() => onHostsChange([])}>
                Remove all hosts
              </button>
            </p>
          ) : null}
        </>
      ) : null}
      <label>
        Find hosts
        <input
          type="search"
          value={q}
          maxLength={200}
          onChange={(e) => setQ(e.target.value)}
          onKeyDown={onEnter(addExact)}
          placeholder="Hostname or id"
        />
      </label>
      {search !== '' && hosts.data ? (
        hosts.data.items.length === 0 ? (
          <p className={styles.hint}>No approved host matches.</p>
        ) : (
          <ul className={styles.results} aria-label="Matching hosts">
            {hosts.data.items.map((h) => (
              <li key={h.id}>
                <span>
                  <SafeText text={h.hostname} />{' '}
                  <span className="muted">
                    <SafeText text={`${h.os.distro} ${h.os.release}`} />
                    {h.groups.length > 0 ? (
                      <>
                        {' · '}
                        <SafeText text={h.groups.join(', ')} max={60} />
                      </>
                    ) : null}
                  </span>{' '}
                  {h.online ? <span className="badge badge-ok">online</span> : <span className="badge">offline</span>}
                </span>
                <button
                  type="button"
                  disabled={selected.has(h.id)}
                  aria-label={`Add host ${visibleText(h.hostname)}`}
                  onClick={() => addHost(h)}
                >
                  {selected.has(h.id) ? 'Added' : 'Add'}
                </button>
              </li>
            ))}
          </ul>
        )
      ) : null}
      {hosts.error ? <p className="error-box">Hosts could not be searched.</p> : null}

      {groups.length > 0 ? (
        <ul className={styles.chips} aria-label="Selected groups">
          {groups.map((g) => (
            <li key={g} className={styles.chip}>
              <SafeText text={g} />
              <button
                type="button"
                aria-label={`Remove group ${visibleText(g)}`}
                onClick={() => onGroupsChange(groups.filter((x) => x !== g))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <div className={styles.row}>
        <label>
          Group
          <input value={group} list={listId} maxLength={100} onChange={(e) => setGroup(e.target.value)} onKeyDown={onEnter(addGroup)} />
        </label>
        <datalist id={listId}>
          {(groupList.data?.items ?? []).map((g) => (
            <option key={g.name} value={g.name}>
              {`${visibleText(g.name)} (${g.hostCount} hosts)`}
            </option>
          ))}
        </datalist>
        <button type="button" onClick={addGroup} disabled={group.trim() === ''}>
          Add group
        </button>
      </div>
    </fieldset>
  );
}

// ------------------------------------------------------------------------ maintenance windows

/** The maintenance windows of the chosen groups: work reaches their hosts only while one is open. */
export function WindowsNote({ groups, emergency }: { groups: readonly string[]; emergency: boolean }) {
  const windows = useQuery({
    queryKey: ['maintenance-windows'],
    queryFn: () => call(api.GET('/api/v1/maintenance-windows')),
    staleTime: 60_000,
  });
  const mine = (windows.data?.items ?? []).filter((w) => groups.includes(w.group));
  return (
    <div className="notice">
      <strong>Maintenance windows.</strong>{' '}
      {emergency
        ? 'An emergency deployment ignores maintenance windows and bake times.'
        : 'A host in a group with maintenance windows gets its work only while one of them is open (hosts chosen by name too).'}
      {mine.length > 0 ? (
        <ul>
          {mine.map((w) => (
            <li key={w.id}>
              <SafeText text={w.group} />: <code>{visibleText(w.cron)}</code> for {w.durationMinutes} min (<SafeText text={w.timeZone} />
              ), next opens {formatDate(w.nextOpeningAt)}
            </li>
          ))}
        </ul>
      ) : groups.length > 0 && windows.data ? (
        <span className="muted"> The chosen groups have no windows.</span>
      ) : null}
    </div>
  );
}
