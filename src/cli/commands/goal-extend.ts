/**
 * `agentq goal extend GOAL_ID FILE`: plan-shaped tasks added to a goal still running. FILE is JSON
 * or YAML (`-` reads standard input, as `plan -` does), either `{ "tasks": [...] }` or a bare
 * array. Exit 2 on bad tasks (the field is named, nothing is added), 1 for an unknown or ended goal.
 */
import type { Command } from 'commander';
import { extendGoal } from '../../interface/operations/extend-goal';
import { loadPlanFile } from '../../queues/plan-loader';
import { withContext } from '../context';
import { readPlanFromStdin } from '../plan-input';
import { supervisorFor } from '../supervisor';

export function registerExtendCommand(goal: Command): void {
  goal
    .command('extend <id> <file>')
    .description('add tasks to a running goal (FILE: JSON or YAML, - for stdin)')
    .action((id: string, file: string, _options: unknown, command: Command) =>
      withContext(command, {}, async (ctx) => {
        const parsed = file === '-' ? await readPlanFromStdin() : await loadPlanFile(file);
        const deps = {
          store: ctx.registry,
          coordinator: ctx.coordinator,
          goals: supervisorFor(ctx),
        };
        const extended = await extendGoal(deps, { goalId: id, tasks: tasksOf(parsed) }, ctx.actor);
        if (ctx.out.json) return ctx.out.printJson(extended);
        const added = new Set(extended.created);
        const tasks = extended.tasks.filter((t) => added.has(t.id));
        if (tasks.length === 0) ctx.out.print(`Goal ${id}: no tasks added (already there).`);
        for (const t of tasks) ctx.out.print(`Added ${t.key} (${t.id}, ${t.type}) to goal ${id}.`);
      }),
    );
}

/** `{ tasks: [...] }` gives its tasks; anything else (a bare array) is the tasks themselves. */
function tasksOf(parsed: unknown): unknown {
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    return 'tasks' in parsed ? parsed.tasks : parsed;
  }
  return parsed;
}
