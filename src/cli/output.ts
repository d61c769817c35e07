/**
 * How the CLI writes: one JSON document with `--json`; otherwise text, tables (cli-table3) and
 * colours (picocolors) — colours only on a TTY and never with `--json`; progress bars
 * (cli-progress) on stderr, only on a TTY and without `--json`. A progress's note (why it does
 * not move) shows beside the bar, or else as a line on stderr each time it changes.
 */
import type * as CliProgress from 'cli-progress';
import pc from 'picocolors';
import { renderTable, type TableCell } from '../interface/text-table';

export type Colors = ReturnType<typeof pc.createColors>;

export interface Output {
  readonly json: boolean;
  readonly color: Colors;
  /** Writes one JSON document (dates as ISO strings) and a newline. */
  printJson(value: unknown): void;
  print(text: string): void;
  table(head: string[], rows: TableCell[][], alignRight?: number[]): void;
  /** One line on stderr (never on stdout, so `--json` output stays one document). */
  warn(line: string): void;
  progress(total: number, label: string): Progress;
}

export interface Progress {
  update(done: number, total?: number): void;
  /** Why it does not move (`waiting: …`), or '' when nothing is in the way. */
  note(text: string): void;
  stop(): void;
}

export interface OutputStreams {
  stdout: NodeJS.WriteStream | NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
}

function isTty(stream: OutputStreams['stdout']): boolean {
  return (stream as NodeJS.WriteStream).isTTY === true;
}

export function createOutput(
  json: boolean,
  streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr },
): Output {
  const colored = !json && isTty(streams.stdout) && pc.isColorSupported;
  const color = pc.createColors(colored);
  return {
    json,
    color,
    printJson: (value) => streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    print: (text) => streams.stdout.write(`${text}\n`),
    table: (head, rows, alignRight) =>
      streams.stdout.write(
        `${renderTable(head, rows, { headStyle: colored ? ['cyan'] : [], alignRight })}\n`,
      ),
    warn: (line) => streams.stderr.write(`${line}\n`),
    progress: (total, label) =>
      json || !isTty(streams.stderr)
        ? createNoteLines(streams.stderr)
        : createProgress(total, label, streams.stderr),
  };
}

/** Off a TTY (or with `--json`): no bar; a note is a line on stderr when it changes. */
function createNoteLines(stream: OutputStreams['stderr']): Progress {
  let last = '';
  return {
    update: () => undefined,
    note: (text) => {
      if (text !== last && text !== '') stream.write(`${text}\n`);
      last = text;
    },
    stop: () => undefined,
  };
}

function createProgress(total: number, label: string, stream: OutputStreams['stderr']): Progress {
  // Loaded with the first progress bar: most commands draw none.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SingleBar } = require('cli-progress') as typeof CliProgress;
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} {note}`,
    stream: stream as NodeJS.WriteStream,
    hideCursor: true,
  });
  bar.start(total, 0, { note: '' });
  return {
    update: (done, newTotal) => {
      if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(done);
    },
    note: (text) => bar.update({ note: text }),
    stop: () => bar.stop(),
  };
}

/** Colours a task or goal state name. */
export function paintState(color: Colors, state: string): string {
  switch (state) {
    case 'DONE':
      return color.green(state);
    case 'FAILED':
      return color.red(state);
    case 'CANCELLED':
      return color.gray(state);
    case 'ACTIVE':
    case 'ASSIGNED':
      return color.cyan(state);
    default:
      return color.yellow(state);
  }
}
