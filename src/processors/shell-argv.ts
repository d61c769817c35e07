/**
 * Turns the command line an operator writes (`--shell "npm run task -- --fast"`) into argv, once,
 * when the agent starts. No shell ever sees it: quotes group words as a shell's would, and every
 * character a shell would act on (`; | & < > ( ) $ \``) is refused unless quoted with '…', so a
 * command line cannot silently mean something else. Who needs a shell writes `sh -c '…'`.
 */
import { InputError } from '../errors';

const METACHARACTERS = new Set([';', '|', '&', '<', '>', '(', ')', '$', '`']);

function refuse(message: string): never {
  throw new InputError(message, 'command');
}

/** Splits `line` into words: whitespace separates, '…' is literal, "…" and \ escape as in sh. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const take = (text: string): void => {
    word = (word ?? '') + text;
  };
  while (i < line.length) {
    const ch = line[i]!;
    if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
      i += 1;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) refuse(`unterminated ' quote at character ${i + 1}`);
      take(line.slice(i + 1, end));
      i = end + 1;
    } else if (ch === '"') {
      i = readDoubleQuoted(line, i + 1, take);
    } else if (ch === '\\') {
      if (i + 1 >= line.length) refuse('a trailing \\ escapes nothing');
      take(line[i + 1]!);
      i += 2;
    } else if (METACHARACTERS.has(ch)) {
      refuse(
        `"${ch}" at character ${i + 1} would need a shell; quote it with '…' or run sh -c '…' explicitly`,
      );
    } else {
      take(ch);
      i += 1;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** Reads a "…" group starting after its opening quote; returns the index after its closing quote. */
function readDoubleQuoted(line: string, start: number, take: (text: string) => void): number {
  let i = start;
  take('');
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === '"') return i + 1;
    if (ch === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) {
      take(line[i + 1]!);
      i += 2;
    } else if (ch === '$' || ch === '`') {
      refuse(`"${ch}" at character ${i + 1} would be expanded by a shell; use '…' for a literal`);
    } else {
      take(ch);
      i += 1;
    }
  }
  return refuse(`unterminated " quote at character ${start}`);
}

/** argv from a command line or an argv array; refuses an empty command. */
export function toArgv(command: string | readonly string[]): [string, ...string[]] {
  const argv = typeof command === 'string' ? splitCommandLine(command) : [...command];
  const [file, ...args] = argv;
  if (file === undefined || file === '') refuse('is empty');
  return [file, ...args];
}
