/**
 * Plain text tables (cli-table3, loaded with the first table: a command that prints none, such
 * as `task show`, does not load it) for reports; the CLI adds colour on a TTY.
 */
import type TableType from 'cli-table3';

export type TableCell = string | number | null | undefined;

export interface TextTableOptions {
  /** Styles (cli-table3 colour names) for the header cells; none for plain text. @defaultValue [] */
  headStyle?: string[];
  /** Columns aligned right, by index (numbers read better that way). @defaultValue [] */
  alignRight?: number[];
}

export function renderTable(
  head: string[],
  rows: TableCell[][],
  options: TextTableOptions = {},
): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Table = require('cli-table3') as typeof TableType;
  const table = new Table({
    head,
    style: { head: options.headStyle ?? [], border: [], compact: true },
    colAligns: head.map((_, i) => (options.alignRight?.includes(i) ? 'right' : 'left')),
  });
  for (const row of rows) table.push(row.map((cell) => cell ?? ''));
  return table.toString();
}
