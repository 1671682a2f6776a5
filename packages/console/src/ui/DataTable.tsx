import { type ColumnDef, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { formatCount } from './format';

export interface Paging {
  offset: number;
  limit: number;
  total: number;
  onOffsetChange: (offset: number) => void;
}

interface DataTableProps<T> {
  /** Accessible name of the table (also what tests and screen readers find it by). */
  label: string;
  columns: ColumnDef<T, unknown>[];
  data: readonly T[];
  getRowId?: (row: T) => string;
  /** Server-side paging: the table never holds more than one page. */
  paging?: Paging;
  /** Server-side sorting: the column ids that can sort, the current one, and how to change it. */
  sort?: { sortable: readonly string[]; by: string; order: 'asc' | 'desc'; onChange: (by: string, order: 'asc' | 'desc') => void };
  isLoading?: boolean;
  empty?: string;
}

/** The one table of the console: TanStack Table rendering, paging and sorting done by the server. */
export function DataTable<T>({ label, columns, data, getRowId, paging, sort, isLoading, empty }: DataTableProps<T>) {
  const table = useReactTable<T>({
    data: data as T[],
    columns,
    getCoreRowModel: getCoreRowModel(),
    manualPagination: true,
    manualSorting: true,
    ...(getRowId ? { getRowId: (row: T) => getRowId(row) } : {}),
  });
  return (
    <div className="table-wrap">
      <table aria-label={label} aria-busy={isLoading ? 'true' : 'false'}>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const id = header.column.id;
                const sortable = sort?.sortable.includes(id);
                const active = sort?.by === id;
                const content = header.isPlaceholder ? null : flexRender(header.column.columnDef.header, header.getContext());
                return (
                  <th key={header.id} aria-sort={active ? (sort?.order === 'asc' ? 'ascending' : 'descending') : undefined}>
                    {sortable && sort ? (
                      <button
                        type="button"
                        className="link-button"
                        onClick={() => sort.onChange(id, active && sort.order === 'asc' ? 'desc' : 'asc')}
                      >
                        {content} {active ? (sort.order === 'asc' ? '▲' : '▼') : ''}
                      </button>
                    ) : (
                      content
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id}>
              {row.getVisibleCells().map((cell) => (
                <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
              ))}
            </tr>
          ))}
          {data.length === 0 && !isLoading ? (
            <tr>
              <td colSpan={columns.length} className="muted">
                {empty ?? 'Nothing to show.'}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {paging ? <Pager {...paging} /> : null}
    </div>
  );
}

export function Pager({ offset, limit, total, onOffsetChange }: Paging) {
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  return (
    <nav className="pager" aria-label="Pages">
      <span>
        {formatCount(from)}–{formatCount(to)} of {formatCount(total)}
      </span>
      <button type="button" disabled={offset === 0} onClick={() => onOffsetChange(Math.max(0, offset - limit))}>
        Previous
      </button>
      <button type="button" disabled={offset + limit >= total} onClick={() => onOffsetChange(offset + limit)}>
        Next
      </button>
    </nav>
  );
}
