import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api, call, type Json } from '../api/client';
import { QueryState } from './ErrorBox';
import { SafeText, visibleText } from './SafeText';
import { useDebounced } from './use-debounced';

export type HostListItem = Json<'/api/v1/hosts', 'get'>['items'][number];

/**
 * Finds hosts by name on the server (GET /hosts?q=, a handful at a time) and hands the chosen one
 * to `onPick`. Used wherever a screen needs "which host?": policy targets, a host's compliance,
 * a host's quarantine, why a host is affected by a record.
 */
export function HostPicker({
  label,
  onPick,
  exclude,
  pickLabel = 'Choose',
  limit = 8,
}: {
  label: string;
  onPick: (host: HostListItem) => void;
  exclude?: ReadonlySet<string>;
  pickLabel?: string;
  limit?: number;
}) {
  const [text, setText] = useState('');
  const q = useDebounced(text.trim(), 300);
  const listId = useId();
  const hosts = useQuery({
    queryKey: ['hosts', 'picker', q, limit],
    queryFn: () => call(api.GET('/api/v1/hosts', { params: { query: { q, limit, offset: 0 } } })),
    enabled: q !== '',
  });
  const items = (hosts.data?.items ?? []).filter((h) => !exclude?.has(h.id));
  return (
    <div>
      <label>
        {label}
        <input
          type="search"
          value={text}
          maxLength={200}
          onChange={(e) => setText(e.target.value)}
          placeholder="host name"
          aria-controls={listId}
        />
      </label>
      {q !== '' ? (
        <>
          <QueryState isLoading={hosts.isLoading} error={hosts.error} />
          <ul id={listId} aria-label="Search results">
            {items.map((h) => (
              <li key={h.id}>
                <SafeText text={h.hostname} max={80} />{' '}
                <span className="muted">
                  <SafeText text={`${h.os.distro} ${h.os.release}`} max={40} />
                </span>{' '}
                <button type="button" onClick={() => onPick(h)} aria-label={`${pickLabel} ${visibleText(h.hostname)}`}>
                  {pickLabel}
                </button>
              </li>
            ))}
            {hosts.data && items.length === 0 ? <li className="muted">No matching hosts.</li> : null}
            {hosts.data && hosts.data.total > hosts.data.items.length ? (
              <li className="muted">{hosts.data.total - hosts.data.items.length} more: type more of the name.</li>
            ) : null}
          </ul>
        </>
      ) : null}
    </div>
  );
}
