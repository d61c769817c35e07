/**
 * Runs a handler inside the task's own git worktree: acquires it, points `ctx.workdir` there,
 * and releases it with the attempt's outcome (removed after success, kept after failure unless
 * the manager says otherwise). Works for every executor: function, sandboxed module, shell.
 */
import { coerceError } from '../errors';
import type { TaskContext, TaskHandler } from './handler-types';
import type { WorktreeManager } from './worktree';

export function withWorktree(manager: WorktreeManager, handler: TaskHandler): TaskHandler {
  return async (task, ctx) => {
    const workdir = await manager.acquire(task.id);
    // Inherit from the agent's context rather than copy it: its methods (recordMetrics, …) may
    // live on a prototype that a spread would drop.
    const inner = Object.create(ctx, {
      workdir: { value: workdir, enumerable: true },
    }) as TaskContext;
    let ok = false;
    try {
      const result = await handler(task, inner);
      ok = !ctx.signal.aborted;
      return result;
    } finally {
      // The attempt's outcome is already decided; a failed clean-up must not change it.
      await manager
        .release(task.id, { ok })
        .catch((error: unknown) =>
          ctx.log(`worktree ${workdir} not released: ${coerceError(error).message}`),
        )
        .catch(() => undefined);
    }
  };
}
