/**
 * Validating tasks added to a running goal (DESIGN.md "Living goals"): each task checked like a
 * plan's, then the graph rules against the goal as it is. A key the goal already has is a repeat
 * (a retried attempt spawning again, an extension sent twice): it is returned, not added. A
 * dependency may name a task of the goal or of the same call; it must not name a task that
 * cannot end before the new one runs (`blocked`: a spawner and what waits for it).
 */
import type { ResolvedTaskSpec } from '../entities/task-model';
import type { TaskState } from '../entities/task-state';
import { InputError } from '../errors';
import { findCycle } from './plan-cycles';
import { resolveTaskList } from './plan-schema';

/** What the validation needs of a task the goal has. */
export interface ExistingTask {
  key: string;
  type: string;
  state: TaskState;
  optional: boolean;
}

export interface ExtensionPlan {
  /** The tasks to add, in call order. */
  fresh: ResolvedTaskSpec[];
  /** Keys of the call the goal has already. */
  repeated: string[];
}

/** Throws the first problem as an InputError naming the field (`tasks[2].dependsOn[0]`). */
export function planExtension(
  input: unknown,
  existing: ReadonlyMap<string, ExistingTask>,
  options: { blocked?: ReadonlySet<string>; blockedWhy?: string } = {},
): ExtensionPlan {
  const tasks = resolveTaskList(input);
  const seen = new Map<string, number>();
  tasks.forEach((t, i) => {
    const first = seen.get(t.key);
    if (first !== undefined) {
      throw new InputError(`duplicate key '${t.key}' (also tasks[${first}])`, `tasks[${i}].key`);
    }
    seen.set(t.key, i);
  });
  const fresh = tasks.filter((t) => !existing.has(t.key));
  const repeated = tasks.filter((t) => existing.has(t.key)).map((t) => t.key);
  tasks.forEach((t, i) => {
    if (existing.has(t.key)) return;
    t.dependsOn.forEach((dep, j) => {
      const field = `tasks[${i}].dependsOn[${j}]`;
      if (t.dependsOn.indexOf(dep) !== j) throw new InputError(`'${dep}' is listed twice`, field);
      if (!seen.has(dep) && !existing.has(dep)) {
        throw new InputError(`unknown task key '${dep}' (not in the goal nor in this call)`, field);
      }
      if (options.blocked?.has(dep)) {
        throw new InputError(`'${dep}' ${options.blockedWhy ?? 'cannot end first'}`, field);
      }
      const known = existing.get(dep);
      if (known?.state === 'CANCELLED') {
        throw new InputError(`'${dep}' was cancelled: it will never give a result`, field);
      }
      if (known?.state === 'FAILED' && !known.optional) {
        throw new InputError(`'${dep}' failed: it will never give a result`, field);
      }
    });
  });
  // Only the new tasks can close a cycle: a task of the goal never depends on one added later.
  const cycle = findCycle(
    fresh.map((t) => ({ key: t.key, dependsOn: t.dependsOn.filter((d) => !existing.has(d)) })),
  );
  if (cycle) throw new InputError(`cycle: ${cycle.join(' → ')}`, 'tasks', 'plan_cycle');
  return { fresh, repeated };
}
