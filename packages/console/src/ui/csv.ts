import Papa from 'papaparse';

/**
 * CSV text that is safe to open in a spreadsheet: a cell an agent controls cannot become a formula
 * (papaparse's escapeFormulae prefixes cells starting with = + - @ tab or CR with a quote).
 */
export function toCsv(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<unknown>>): string {
  return Papa.unparse(
    {
      fields: [...columns],
      data: rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : typeof c === 'object' ? JSON.stringify(c) : String(c)))),
    },
    { escapeFormulae: true, newline: '\r\n' },
  );
}

/** Offers the rows as a CSV download (a Blob URL: no server round trip, nothing inline). */
export function downloadCsv(filename: string, columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<unknown>>): void {
  const blob = new Blob([`\ufeff${toCsv(columns, rows)}`], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
