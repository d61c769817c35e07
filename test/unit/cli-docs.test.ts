/**
 * docs/cli.md documents the whole program: every command path (`task create`, `dlq retry`) and
 * every long flag of every command, the global ones included, as commander has them declared —
 * walked from `buildProgram()`, so a command or flag added without its documentation fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main';

const DOC = readFileSync(join(__dirname, '..', '..', 'docs', 'cli.md'), 'utf8');

interface Declared {
  path: string;
  flags: string[];
}

/** Every command below `command` with its path and long flags, depth first. */
function walk(command: Command, parent: string[] = []): Declared[] {
  return command.commands.flatMap((sub) => {
    const path = [...parent, sub.name()];
    const flags = sub.options.map((o) => o.long).filter((f): f is string => f !== undefined);
    return [{ path: path.join(' '), flags }, ...walk(sub, path)];
  });
}

const program = buildProgram();
const commands = walk(program);
const globalFlags = program.options.map((o) => o.long).filter((f): f is string => !!f);

describe('docs/cli.md', () => {
  it('finds the commands and global flags to check', () => {
    // A walk that found nothing would pass every check below.
    expect(commands.map((c) => c.path)).toEqual(
      expect.arrayContaining(['serve', 'worker', 'goal', 'goal show', 'plan', 'dlq retry']),
    );
    expect(globalFlags).toEqual(expect.arrayContaining(['--redis', '--db', '--prefix', '--json']));
  });

  it.each(commands.map((c) => [c.path]))('documents the command `%s`', (path) => {
    // As code at the start of a span: `task create …`, `dlq retry ID`, `serve [--host H]`.
    const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(DOC).toMatch(new RegExp('`' + escaped + '[ `]'));
  });

  it.each(commands.flatMap((c) => c.flags.map((flag) => [c.path, flag])))(
    'documents `%s %s`',
    (_path, flag) => {
      expect(DOC).toMatch(new RegExp(`${flag}(?![a-z-])`));
    },
  );

  it.each(globalFlags.map((flag) => [flag]))('documents the global flag %s', (flag) => {
    expect(DOC).toMatch(new RegExp('`' + flag + '[ `]'));
  });
});
