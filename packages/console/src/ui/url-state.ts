import { useCallback, useMemo, useRef } from 'react';
import { useSearchParams } from 'react-router';

/**
 * Screen state (filters, search, paging, sorting) kept in the URL's query string, so a filtered
 * view can be reloaded, bookmarked and shared. Values are strings; empty ones are dropped.
 */
export function useUrlState<K extends string>(
  defaults: Record<K, string>,
): [Record<K, string>, (patch: Partial<Record<K, string>>) => void] {
  const [params, setParams] = useSearchParams();
  // Defaults are a literal per screen: the first render's copy is the one used.
  const initial = useRef(defaults).current;
  const state = useMemo(() => {
    const out = { ...initial };
    for (const key of Object.keys(initial) as K[]) {
      const v = params.get(key);
      if (v !== null) out[key] = v;
    }
    return out;
  }, [params, initial]);
  const update = useCallback(
    (patch: Partial<Record<K, string>>) => {
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(patch) as Array<[K, string | undefined]>) {
            if (v === undefined || v === '' || v === initial[k]) next.delete(k);
            else next.set(k, v);
          }
          // A new filter starts again at the first page.
          if (!('offset' in patch)) next.delete('offset');
          return next;
        },
        { replace: true },
      );
    },
    [setParams, initial],
  );
  return [state, update];
}
