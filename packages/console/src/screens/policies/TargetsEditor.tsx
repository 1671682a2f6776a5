import { useQueries, useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Link } from 'react-router';
import { api, call } from '../../api/client';
import { formatCount } from '../../ui/format';
import { HostPicker } from '../../ui/HostPicker';
import { SafeText, visibleText } from '../../ui/SafeText';
import styles from './Policies.module.css';

/** Hosts shown by name at once; a policy may name thousands, the rest are counted. */
const SHOWN_HOSTS = 30;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

function HostChips({ hostIds, onRemove, readOnly }: { hostIds: readonly string[]; onRemove: (id: string) => void; readOnly: boolean }) {
  const shown = hostIds.slice(0, SHOWN_HOSTS);
  const hosts = useQueries({
    queries: shown.map((id) => ({
      queryKey: ['hosts', 'one', id],
      queryFn: () => call(api.GET('/api/v1/hosts/{id}', { params: { path: { id } } })),
      staleTime: 60_000,
    })),
  });
  if (hostIds.length === 0) return <p className="muted">No hosts by name.</p>;
  return (
    <>
      <ul className={styles.chips} aria-label="Target hosts">
        {shown.map((id, i) => {
          const name = hosts[i]?.data?.hostname;
          return (
            <li key={id}>
              <Link to={`/hosts/${encodeURIComponent(id)}`}>
                {name !== undefined ? <SafeText text={name} max={60} /> : <span className="mono">{id}</span>}
              </Link>
              {readOnly ? null : (
                <button
                  type="button"
                  onClick={() => onRemove(id)}
                  aria-label={`Remove host ${name !== undefined ? visibleText(name) : id}`}
                >
                  ×
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {hostIds.length > SHOWN_HOSTS ? <p className="muted">and {formatCount(hostIds.length - SHOWN_HOSTS)} more hosts.</p> : null}
    </>
  );
}

/** Which hosts a policy applies to: hosts by name (found on the server) and groups. */
export function TargetsEditor({
  hostIds,
  groups,
  onChange,
  readOnly,
}: {
  hostIds: string[];
  groups: string[];
  onChange: (targets: { hostIds: string[]; groups: string[] }) => void;
  readOnly: boolean;
}) {
  const [group, setGroup] = useState('');
  const [groupProblem, setGroupProblem] = useState('');
  const listId = useId();
  const known = useQuery({ queryKey: ['groups'], queryFn: () => call(api.GET('/api/v1/groups')), enabled: !readOnly, staleTime: 60_000 });
  const addGroup = () => {
    const g = group.trim();
    if (g === '' || g.length > 100 || CONTROL.test(g)) {
      setGroupProblem('A group name is 1 to 100 characters without control characters.');
      return;
    }
    setGroupProblem('');
    if (!groups.includes(g)) onChange({ hostIds, groups: [...groups, g] });
    setGroup('');
  };
  return (
    <fieldset>
      <legend>Targets</legend>
      <h3>Groups</h3>
      {groups.length === 0 ? (
        <p className="muted">No groups.</p>
      ) : (
        <ul className={styles.chips} aria-label="Target groups">
          {groups.map((g) => (
            <li key={g}>
              <SafeText text={g} max={60} />
              {readOnly ? null : (
                <button
                  type="button"
                  onClick={() => onChange({ hostIds, groups: groups.filter((x) => x !== g) })}
                  aria-label={`Remove group ${visibleText(g)}`}
                >
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {readOnly ? null : (
        <div className="toolbar">
          <label>
            Group
            <input
              value={group}
              list={listId}
              maxLength={100}
              onChange={(e) => setGroup(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  addGroup();
                }
              }}
            />
          </label>
          <datalist id={listId}>
            {(known.data?.items ?? []).map((g) => (
              <option key={g.name} value={g.name}>
                {`${visibleText(g.name)} (${g.hostCount} hosts)`}
              </option>
            ))}
          </datalist>
          <button type="button" onClick={addGroup}>
            Add group
          </button>
          {groupProblem ? (
            <span className="error-box" role="alert">
              {groupProblem}
            </span>
          ) : null}
        </div>
      )}
      <h3>Hosts</h3>
      <HostChips hostIds={hostIds} readOnly={readOnly} onRemove={(id) => onChange({ hostIds: hostIds.filter((x) => x !== id), groups })} />
      {readOnly ? null : (
        <HostPicker
          label="Add host"
          pickLabel="Add"
          exclude={new Set(hostIds)}
          onPick={(h) => onChange({ hostIds: hostIds.includes(h.id) ? hostIds : [...hostIds, h.id], groups })}
        />
      )}
    </fieldset>
  );
}
