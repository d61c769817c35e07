/**
 * `agentq task show|create|cancel|retry|approve|reject`. Reads come from the task store; changes are the
 * operations (interface/operations), the same as REST's, with `cli:<user>` as the audit actor.
 * Each subcommand loads what it uses when it runs (`show` and `cancel` no supervisor, planner
 * or mirror): these are the commands scripts run most.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type { Command } from 'commander';
import type { Json } from '../../entities/task-model';
import { InputError } from '../../errors';
import type * as CancelTask from '../../interface/operations/cancel-task';
import type * as CreateTask from '../../interface/operations/create-task';
import type * as DecideApproval from '../../interface/operations/decide-approval';
import type * as RetryTask from '../../interface/operations/retry-task';
import type * as TaskSummary from '../../interface/task-summary';
import type { OperationDeps, SubmittingDeps } from '../../interface/operations/deps';
import { withContext, type CliContext } from '../context';
import type * as Supervisor from '../supervisor';

interface CreateOptions {
  title: string;
  type: string;
  priority?: string;
  description?: string;
  data?: string;
}

function depsOf(ctx: CliContext): OperationDeps {
  return { store: ctx.registry, coordinator: ctx.coordinator };
}

/** The operations' dependencies with the CLI's supervisor (for the ones that submit goals). */
function submittingDepsOf(ctx: CliContext): SubmittingDeps {
  const { supervisorFor } = require('../supervisor') as typeof Supervisor;
  return { ...depsOf(ctx), goals: supervisorFor(ctx) };
}

function parseData(raw: string | undefined): { [key: string]: Json } | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new InputError(`is not JSON: ${(error as Error).message}`, 'data');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError('must be a JSON object', 'data');
  }
  return value as { [key: string]: Json };
}

/** `--data` of `task approve`: any JSON value. */
function parseAnyJson(raw: string | undefined): Json | undefined {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as Json;
  } catch (error) {
    throw new InputError(`is not JSON: ${(error as Error).message}`, 'data');
  }
}

function parsePriority(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10) {
    throw new InputError(`'${raw}' must be a whole number from 1 to 10`, 'priority');
  }
  return n;
}

export function register(program: Command): void {
  const task = program
    .command('task')
    .description('show, create, cancel, retry, approve or reject one task');

  task
    .command('show <id>')
    .description('one task: state, attempts, result or error, and why it waits')
    .action((id: string, _options: unknown, command: Command) =>
      withContext(command, { readsSql: true }, async (ctx) => {
        const { formatTaskSummary, getTaskSummary } =
          require('../../interface/task-summary') as typeof TaskSummary;
        const summary = await getTaskSummary(ctx.registry, ctx.coordinator, id);
        if (ctx.out.json) return ctx.out.printJson(summary);
        ctx.out.print(formatTaskSummary(summary));
      }),
    );

  task
    .command('create')
    .description('a goal of one task')
    .requiredOption('--title <title>', 'what the task is')
    .requiredOption('--type <capability>', 'the capability it needs')
    .option('--priority <n>', '1–10, 10 first', undefined)
    .option('--description <text>', 'more words for the handler')
    .option('--data <json>', 'handler input, a JSON object')
    .action((options: CreateOptions, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const input = {
          title: options.title,
          type: options.type,
          priority: parsePriority(options.priority),
          description: options.description,
          data: parseData(options.data),
        };
        const { createTask } =
          require('../../interface/operations/create-task') as typeof CreateTask;
        const task = await createTask(submittingDepsOf(ctx), input, ctx.actor);
        if (ctx.out.json) return ctx.out.printJson(task);
        ctx.out.print(`Created task ${task.id} (goal ${task.goalId}), ${task.state}.`);
      }),
    );

  task
    .command('cancel <id>')
    .description('cancel a task and its dependents')
    .action((id: string, _options: unknown, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const { cancelTask } =
          require('../../interface/operations/cancel-task') as typeof CancelTask;
        const outcome = await cancelTask(depsOf(ctx), { taskId: id }, ctx.actor);
        if (ctx.out.json) return ctx.out.printJson(outcome);
        ctx.out.print(`Cancelling task ${id}.`);
      }),
    );

  task
    .command('retry <id>')
    .description('run a FAILED task again (attempts reset); in a FAILED goal, re-open the goal')
    .action((id: string, _options: unknown, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const { retryTask } = require('../../interface/operations/retry-task') as typeof RetryTask;
        const outcome = await retryTask(depsOf(ctx), { taskId: id }, ctx.actor);
        if (ctx.out.json) return ctx.out.printJson(outcome);
        if ('reopened' in outcome) {
          const { goalId, requeued } = outcome.reopened;
          ctx.out.print(`Re-opened goal ${goalId}: ${requeued.length} tasks run again.`);
        } else ctx.out.print(`Retrying task ${id}.`);
      }),
    );

  task
    .command('approve <id>')
    .description('approve a task awaiting approval: it ends DONE and its dependents run')
    .option('--note <text>', 'why; in the audit log and the result')
    .option('--data <json>', "JSON handed to the dependents as the result's data")
    .action((id: string, options: { note?: string; data?: string }, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const data = parseAnyJson(options.data);
        const input = {
          taskId: id,
          ...(options.note !== undefined ? { note: options.note } : {}),
          ...(data !== undefined ? { data } : {}),
        };
        const { approveTask } =
          require('../../interface/operations/decide-approval') as typeof DecideApproval;
        const outcome = await approveTask(depsOf(ctx), input, ctx.actor);
        if (ctx.out.json) return ctx.out.printJson(outcome);
        ctx.out.print(`Approved task ${id} (by ${outcome.by}).`);
      }),
    );

  task
    .command('reject <id>')
    .description('reject a task awaiting approval: it ends FAILED (the goal fails unless optional)')
    .option('--reason <text>', 'why; in the audit log and the error')
    .action((id: string, options: { reason?: string }, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const input = {
          taskId: id,
          ...(options.reason !== undefined ? { reason: options.reason } : {}),
        };
        const { rejectTask } =
          require('../../interface/operations/decide-approval') as typeof DecideApproval;
        const outcome = await rejectTask(depsOf(ctx), input, ctx.actor);
        if (ctx.out.json) return ctx.out.printJson(outcome);
        ctx.out.print(`Rejected task ${id} (by ${outcome.by}).`);
      }),
    );
}
