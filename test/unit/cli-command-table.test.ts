/**
 * The CLI's command table (src/cli/commands/index.ts) says what each command module registers:
 * `agentq --help` lists commands from the table without loading them, so a name, help line or
 * term that drifted from its module would show a wrong help.
 */
import { Command, Help } from 'commander';
import { COMMANDS, commandNamed, registerCommands } from '../../src/cli/commands';
import { buildProgram } from '../../src/cli/main';

describe('the command table', () => {
  it('matches what each module registers: name, term and description, in order', () => {
    const full = buildProgram();
    const help = new Help();
    const registered = full.commands.map((cmd) => ({
      name: cmd.name(),
      term: help.subcommandTerm(cmd),
      description: cmd.description(),
    }));
    expect(registered).toEqual(
      COMMANDS.map(({ name, term, description }) => ({ name, term, description })),
    );
  });

  it('lists the same help with only the command run loaded as with every command loaded', () => {
    const lazy = buildProgram(['status']).helpInformation();
    expect(lazy).toBe(buildProgram().helpInformation());
  });

  it('loads the module of the command run only', () => {
    const program = new Command('agentq');
    registerCommands(program, ['--redis', 'redis://x', 'task', 'show', 'T1']);
    const loaded = program.commands.filter((cmd) => cmd.commands.length > 0 || cmd.options.length);
    expect(loaded.map((cmd) => cmd.name())).toEqual(['task']);
  });

  it.each([
    [['--version'], undefined],
    [['--help'], undefined],
    [[], undefined],
    [['task', 'show', 'T1'], 'task'],
    [['--db', 'sqlite:status', 'goal', 'x'], 'goal'],
    [['--db=sqlite:x', '--json', 'status'], 'status'],
    [['--prefix', 'worker', 'serve'], 'serve'],
    [['help', 'plan'], 'plan'],
    [['nosuch'], undefined],
  ])('finds the command %j runs', (argv, name) => {
    expect(commandNamed(argv)?.name).toBe(name);
  });
});
