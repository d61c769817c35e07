/**
 * `agentq task show|create|cancel|retry|approve|reject`. Reads come from the task store; changes are the
 * operations (interface/operations), the same as REST's, with `cli:<user>` as the audit actor.
 */
import type { Command } from 'commander';
import { InterfaceAgent } from '../../interface/interface-agent';
import type { Json } from '../../entities/task-model';
import { InputError } from '../../errors';
import { cancelTask } from '../../interface/operations/cancel-task';
import { approveTask, rejectTask } from '../../interface/operations/decide-approval';
import { createTask } from '../../interface/operations/create-task';
import { retryTask } from '../../interface/operations/retry-task';
import { withContext, type CliContext } from '../context';
import { supervisorFor } from '../supervisor';

interface CreateOptions {
  title: string;
  type: string;
  priority?: string;
  description?: string;
  data?: string;
}

function depsOf(ctx: CliContext) {
  return { store: ctx.registry, coordinator: ctx.coordinator, goals: supervisorFor(ctx) };
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
        // A one-shot reader: it would take the mirror's lock only to drop it.
        const iface = new InterfaceAgent(ctx.registry, ctx.coordinator, { mirror: false });
        const summary = await iface.getTaskSummary(id);
        if (ctx.out.json) return ctx.out.printJson(summary);
        ctx.out.print(iface.formatTaskSummary(summary));
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
        const task = await createTask(depsOf(ctx), input, ctx.actor);
        if (ctx.out.json) return ctx.out.printJson(task);
        ctx.out.print(`Created task ${task.id} (goal ${task.goalId}), ${task.state}.`);
      }),
    );

  task
    .command('cancel <id>')
    .description('cancel a task and its dependents')
    .action((id: string, _options: unknown, command: Command) =>
      withContext(command, {}, async (ctx) => {
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
        const outcome = await rejectTask(depsOf(ctx), input, ctx.actor);
        if (ctx.out.json) return ctx.out.printJson(outcome);
        ctx.out.print(`Rejected task ${id} (by ${outcome.by}).`);
      }),
    );
}
