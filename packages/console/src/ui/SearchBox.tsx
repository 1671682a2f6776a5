import { useEffect, useRef, useState } from 'react';
import { useDebounced } from './use-debounced';

/**
 * A search field whose value is URL state: typing updates the URL (and so the server query) once
 * the operator pauses for ~300 ms; a change of the URL from elsewhere (Clear filters, Back) shows up
 * in the field.
 */
export function SearchBox({
  label,
  value,
  onChange,
  placeholder,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
}) {
  const [text, setText] = useState(value);
  const debounced = useDebounced(text, 300);
  const sent = useRef(value);
  const change = useRef(onChange);
  change.current = onChange;

  useEffect(() => {
    if (debounced === sent.current) return;
    sent.current = debounced;
    change.current(debounced);
  }, [debounced]);

  useEffect(() => {
    if (value === sent.current) return;
    sent.current = value;
    setText(value);
  }, [value]);

  return (
    <label>
      {label}
      <input type="search" value={text} maxLength={200} placeholder={placeholder} onChange={(e) => setText(e.target.value)} />
    </label>
  );
}
