/**
 * `agentq goal "<text>" [--key K] [--wait]`, `goal show ID`, `goal cancel ID`, `goal pause|resume
 * ID`, `goal extend ID FILE` (tasks added to a running goal), `goal budget ID --tokens N --cost-usd X --wall-ms N`. A goal is planned by the
 * supervisor's planners (templates, or the LLM planner when AGENTQ_LLM_URL is set). Before
 * submitting, an evicting Redis is refused; after it, capabilities no live agent serves are named.
 */
import type { Command } from 'commander';
import { cancelGoal } from '../../interface/operations/cancel-goal';
import { pauseGoal } from '../../interface/operations/pause-goal';
import { raiseGoalBudget } from '../../interface/operations/raise-goal-budget';
import { resumeGoal } from '../../interface/operations/resume-goal';
import { InputError } from '../../errors';
import { registerExtendCommand } from './goal-extend';
import { budgetLine, formatBudget } from '../budget-format';
import { revisionsOf } from '../../queues/revisions';
import { taskKeyOfJobId } from '../../queues/protocol';
import { goalBudgetView } from '../../interface/goal-budgets';
import { withContext, type CliContext } from '../context';
import type { TaskRecord } from '../../entities/task-model';
import { exitCodeOf, waitForGoal } from '../goal-wait';
import { paintState } from '../output';
import { refuseUnsafeRedis, warnUnservedCapabilities } from '../submit-checks';
import { supervisorFor } from '../supervisor';
import type { SubmittedGoal } from '../../queues/supervisor-agent';

export function register(program: Command): void {
  const goal = program
    .command('goal')
    .description('plan and run a goal; show or cancel one')
    .argument('[text]', 'what you want, in words')
    .option('--key <key>', 'idempotency key: the same key returns the existing goal')
    .option('--wait', 'wait for the goal to end: exit 0 when DONE, 1 when FAILED or CANCELLED')
    .action(
      (text: string | undefined, options: { key?: string; wait?: boolean }, command: Command) =>
        withContext(command, {}, async (ctx) => {
          if (text === undefined) return void command.help({ error: true });
          await refuseUnsafeRedis(ctx);
          const submitted = await supervisorFor(ctx).executeGoal(text, { key: options.key });
          await reportSubmitted(ctx, submitted, options.wait === true);
        }),
    );

  goal
    .command('show <id>')
    .description('a goal and its tasks')
    .action((id: string, _options: unknown, command: Command) =>
      withContext(command, { readsSql: true }, async (ctx) => {
        const { goal: record, tasks } = await supervisorFor(ctx).getGoal(id);
        const budget = await goalBudgetView(ctx.coordinator, record);
        const revisions = revisionsOf(tasks);
        if (ctx.out.json) return ctx.out.printJson({ goal: record, tasks, budget, revisions });
        const { color } = ctx.out;
        const state = budget?.state ?? record.state;
        ctx.out.print(`${color.bold(record.id)} ${record.title} — ${paintState(color, state)}`);
        if (budget) ctx.out.print(budgetLine(budget));
        for (const r of revisions) {
          ctx.out.print(
            `revision ${r.revision} by ${r.actor}: ${r.cause.task} failed (${r.cause.error}); ` +
              `added ${r.added.join(', ')}${r.replacement ? `, ${r.replacement} replaces it` : ''}`,
          );
        }
        printTasks(ctx, tasks);
      }),
    );

  registerBudgetCommands(goal);
  registerExtendCommand(goal);

  goal
    .command('cancel <id>')
    .description('cancel every unfinished task of a goal')
    .action((id: string, _options: unknown, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const deps = { store: ctx.registry, coordinator: ctx.coordinator };
        await cancelGoal(deps, { goalId: id }, ctx.actor);
        if (ctx.out.json) ctx.out.printJson({ goalId: id, cancelled: true });
        else ctx.out.print(`Cancelling goal ${id}.`);
      }),
    );
}

function budgetOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new InputError(`'${value}' is not a number`, flag);
  return n;
}

function registerBudgetCommands(goal: Command): void {
  goal
    .command('pause <id>')
    .description('no task of the goal starts until it is resumed (running ones finish)')
    .action((id: string, _options: unknown, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const deps = { store: ctx.registry, coordinator: ctx.coordinator };
        const outcome = await pauseGoal(deps, { goalId: id }, ctx.actor);
        if (ctx.out.json) ctx.out.printJson(outcome);
        else ctx.out.print(`Goal ${id} paused.`);
      }),
    );

  goal
    .command('resume <id>')
    .description('resume a paused goal: its held tasks go back to their queues')
    .action((id: string, _options: unknown, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const deps = { store: ctx.registry, coordinator: ctx.coordinator };
        const outcome = await resumeGoal(deps, { goalId: id }, ctx.actor);
        if (ctx.out.json) ctx.out.printJson(outcome);
        else ctx.out.print(`Goal ${id} resumed (${outcome.released} held tasks released).`);
      }),
    );

  goal
    .command('budget <id>')
    .description(
      "set (raise) the goal's budget; a goal its budget paused resumes under the new one",
    )
    .option('--tokens <n>', 'tokens in all')
    .option('--cost-usd <x>', 'cost in all, in US dollars')
    .option('--wall-ms <n>', 'run time of its tasks in all, in ms')
    .action(
      (
        id: string,
        options: { tokens?: string; costUsd?: string; wallMs?: string },
        command: Command,
      ) =>
        withContext(command, {}, async (ctx) => {
          const budget = {
            tokens: budgetOption(options.tokens, '--tokens'),
            costUsd: budgetOption(options.costUsd, '--cost-usd'),
            wallMs: budgetOption(options.wallMs, '--wall-ms'),
          };
          const given = Object.fromEntries(
            Object.entries(budget).filter(([, v]) => v !== undefined),
          );
          if (Object.keys(given).length === 0) {
            throw new InputError('give --tokens, --cost-usd and/or --wall-ms', 'budget');
          }
          const deps = { store: ctx.registry, coordinator: ctx.coordinator };
          const outcome = await raiseGoalBudget(deps, { goalId: id, budget: given }, ctx.actor);
          if (ctx.out.json) ctx.out.printJson(outcome);
          else
            ctx.out.print(`Goal ${id} budget: ${formatBudget(outcome.budget)} (${outcome.state}).`);
        }),
    );
}

function printTasks(ctx: CliContext, tasks: readonly TaskRecord[]): void {
  const { color } = ctx.out;
  // A living goal's spawned tasks name their spawner (by key); other goals keep six columns.
  const spawned = tasks.some((t) => t.spawnedBy);
  ctx.out.table(
    ['task', 'type', 'state', 'attempt', 'depends on', 'agent', ...(spawned ? ['spawned by'] : [])],
    tasks.map((t) => [
      t.key,
      t.type,
      paintState(color, t.state),
      `${t.attempt}/${t.attempts}`,
      t.dependsOn.join(', '),
      t.agentId ?? '',
      ...(spawned ? [t.spawnedBy ? taskKeyOfJobId(t.spawnedBy) : ''] : []),
    ]),
  );
}

/**
 * Prints what was submitted (warning about capabilities nobody serves) and, with `wait`, follows
 * it: then the goal and its tasks are printed as SQL records them at the end, the same records
 * `goal show` prints. Sets the exit code of `--wait`.
 */
export async function reportSubmitted(
  ctx: CliContext,
  submitted: SubmittedGoal,
  wait: boolean,
): Promise<void> {
  await warnUnservedCapabilities(ctx, submitted.tasks);
  const verb = submitted.created ? 'Submitted' : 'Already submitted:';
  const line = `${verb} goal ${submitted.goalId} with ${submitted.tasks.length} tasks (${submitted.planner}).`;
  if (!wait) {
    if (ctx.out.json) ctx.out.printJson(submitted);
    else ctx.out.print(line);
    return;
  }
  if (!ctx.out.json) ctx.out.print(line);
  const outcome = await waitForGoal(ctx, submitted.goalId, submitted.tasks.length);
  if (ctx.out.json) {
    ctx.out.printJson({
      ...submitted,
      state: outcome.end,
      goal: outcome.goal,
      tasks: outcome.tasks,
    });
  } else {
    ctx.out.print(`Goal ${submitted.goalId} ${outcome.end ?? 'still running'}.`);
    printTasks(ctx, outcome.tasks);
  }
  process.exitCode = exitCodeOf(outcome.end);
}
