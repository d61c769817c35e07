/**
 * What `agentq recover` does to one goal whose flow Redis lost, decided from SQL alone (pure, so
 * the rules are unit-tested without servers):
 * - DONE tasks are not run again: their results go to their dependents through
 *   `TaskJobData.resolved`.
 * - FAILED and CANCELLED tasks keep their state and end their dependents the way the goal's
 *   policy would have: a non-optional failure ends the whole goal (dependents FAILED with the
 *   dependency named, the rest CANCELLED, the goal FAILED); a cancelled task cancels its
 *   dependents and the goal ends CANCELLED once the rest has run; an optional failure hands its
 *   dependents `{ error: { message } }`.
 * - Every other task is re-queued: ASSIGNED/ACTIVE go back to PENDING in a new epoch (their
 *   interrupted attempt was not their fault, and the mirror must not take the new run's attempt 1
 *   for a stale change), so do PENDING tasks that had attempts (waiting out a retry's backoff:
 *   PENDING → PENDING, legal only as a new epoch), BACKLOG tasks whose dependencies are all
 *   settled become PENDING.
 * - Spawned tasks (ctx.spawn) come back under their spawning task: a re-queued spawner waits for
 *   the ones re-queued (and runs its handler again after them; its spawn is then a repeat), and
 *   whoever depends on a spawner gets the results of what it spawned, like its envelope gave.
 */
import type {
  GoalEnd,
  Json,
  ResolvedTaskSpec,
  TaskChange,
  TaskRecord,
} from '../entities/task-model';
import { isTerminal } from '../entities/task-state';
import { topologicalOrder } from './plan-cycles';

/** The audit actor of every change recover makes. */
export const RECOVER_ACTOR = 'recover';

export interface RequeuedTask {
  /** The spec the flow is compiled from: `dependsOn` holds only re-queued dependencies. */
  spec: ResolvedTaskSpec;
  /** The task's full `dependsOn`, as its handler sees it. */
  dependsOn: string[];
  /** Results of settled dependencies (DONE, or optional and FAILED as `{ error }`). */
  resolved: { [key: string]: Json };
  /** The epoch the task runs under after recovery. */
  epoch: number;
  /** The spawning task's key (a spawned task). */
  spawnedBy?: string;
  /**
   * A repaired task (repair.ts): the key of its replacement and every task it spawned as
   * `[key, type]`. It does not run its failed handler again; it waits for them and ends with
   * the replacement's result.
   */
  repaired?: { replacedBy: string; spawned: Array<[key: string, type: string]> };
}

/** A goal-record entry (compiler.ts GoalRecord) of a task recover does not run again. */
export type KeptEntry = [
  key: string,
  type: string,
  dependsOn: string[],
  optional: boolean,
  spawnedBy?: string,
];

export interface GoalRecovery {
  /** Tasks to put back into a new flow, in plan order. Empty when the goal ends instead. */
  requeue: RequeuedTask[];
  /** SQL transitions, in order (actor `recover`). */
  changes: TaskChange[];
  /** Keys of the tasks SQL records as DONE: not run again. */
  keptDone: string[];
  /** Set when nothing is left to run: the goal's final state. */
  goalEnd: GoalEnd | null;
  /** True when a task was cancelled: the rebuilt goal must still end CANCELLED. */
  cancelled: boolean;
  /**
   * The goal record's entries of the tasks not re-queued: the rebuilt record holds every task of
   * the goal, so a re-run spawner's spawn finds them (a repeat, or a dependency).
   */
  kept: KeptEntry[];
}

/** The key a repair patch's task replaces (its `data.repair.replaces`), if any. */
function replacesOf(task: TaskRecord): string | undefined {
  const note = (task.data as { repair?: { replaces?: unknown } }).repair;
  return typeof note?.replaces === 'string' ? note.replaces : undefined;
}

/** The spawn tree of a goal's SQL records: who spawned each task, and each task's spawned. */
function spawnTree(tasks: readonly TaskRecord[]) {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const spawnerOf = new Map<string, string>();
  const children = new Map<string, string[]>();
  for (const t of tasks) {
    const spawner = t.spawnedBy ? byId.get(t.spawnedBy) : undefined;
    if (!spawner) continue;
    spawnerOf.set(t.key, spawner.key);
    const list = children.get(spawner.key);
    if (list) list.push(t.key);
    else children.set(spawner.key, [t.key]);
  }
  const descendants = (key: string): string[] => {
    const out: string[] = [];
    const stack = [...(children.get(key) ?? [])];
    while (stack.length > 0) {
      const k = stack.pop()!;
      out.push(k);
      stack.push(...(children.get(k) ?? []));
    }
    return out;
  };
  return { spawnerOf, children, descendants };
}

type Blame = { kind: 'failed'; key: string } | { kind: 'cancelled'; key: string } | null;

const REASON = 'recovered after Redis lost the goal';

function specOf(task: TaskRecord, dependsOn: string[]): ResolvedTaskSpec {
  return {
    key: task.key,
    title: task.title,
    description: task.description,
    type: task.type,
    priority: task.priority,
    dependsOn,
    data: task.data,
    attempts: task.attempts,
    timeoutMs: task.timeoutMs,
    optional: task.optional,
  };
}

/**
 * For every task: the failure (through non-optional dependencies) or cancellation (through any
 * dependency) it inherits, or that it is itself.
 */
function blameAll(tasks: ReadonlyMap<string, TaskRecord>, order: string[]): Map<string, Blame> {
  const blame = new Map<string, Blame>();
  for (const key of order) {
    const task = tasks.get(key)!;
    let inherited: Blame = null;
    for (const d of task.dependsOn) {
      const b = blame.get(d) ?? null;
      if (b?.kind === 'failed' && !tasks.get(d)!.optional) inherited ??= b;
      if (b?.kind === 'cancelled') inherited ??= b;
    }
    if (task.state === 'FAILED') blame.set(key, inherited ?? { kind: 'failed', key });
    else if (task.state === 'CANCELLED') blame.set(key, inherited ?? { kind: 'cancelled', key });
    else blame.set(key, task.state === 'DONE' ? null : inherited);
  }
  return blame;
}

/**
 * Decides one goal's recovery. `tasks` are the goal's SQL records; `planOrder` their keys in plan
 * order (the compiler's tree parents follow it). `at` stamps the changes.
 */
export function planGoalRecovery(
  tasks: readonly TaskRecord[],
  planOrder: readonly string[],
  at: Date,
): GoalRecovery {
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const tree = spawnTree(tasks);
  // A spawning task ends after what it spawned: for recovery, those are among what it waits on.
  const waitsOn = (t: TaskRecord) => [...t.dependsOn, ...(tree.children.get(t.key) ?? [])];
  const keptEntries = (requeued: ReadonlySet<string>): KeptEntry[] =>
    tasks
      .filter((t) => !requeued.has(t.key))
      .map((t) => {
        const spawner = tree.spawnerOf.get(t.key);
        const entry: KeptEntry = [t.key, t.type, t.dependsOn, t.optional];
        if (spawner) entry.push(spawner);
        return entry;
      });
  const ordered = [
    ...planOrder.filter((k) => byKey.has(k)),
    ...tasks.map((t) => t.key).filter((k) => !planOrder.includes(k)),
  ].map((k) => byKey.get(k)!);
  const order = topologicalOrder(ordered.map((t) => ({ key: t.key, dependsOn: waitsOn(t) })));
  const blame = blameAll(byKey, order);
  const open = ordered.filter((t) => !isTerminal(t.state));
  const keptDone = ordered.filter((t) => t.state === 'DONE').map((t) => t.key);
  const hardFailure = ordered.some((t) => t.state === 'FAILED' && !t.optional);
  const cancelled = ordered.some((t) => t.state === 'CANCELLED');
  const changes: TaskChange[] = [];
  const base = { at, actor: RECOVER_ACTOR };

  if (hardFailure) {
    // The goal had failed (its finalizer may not have run): end everything still open.
    for (const t of open) {
      const b = blame.get(t.key);
      changes.push(
        b?.kind === 'failed'
          ? {
              ...base,
              taskId: t.id,
              to: 'FAILED',
              error: { message: `dependency ${b.key} failed`, dependency: b.key },
              reason: `dependency ${b.key} failed`,
            }
          : { ...base, taskId: t.id, to: 'CANCELLED', reason: `goal failed; ${REASON}` },
      );
    }
    return { requeue: [], changes, keptDone, goalEnd: 'FAILED', cancelled, kept: [] };
  }

  const requeueKeys = new Set<string>();
  for (const t of open) {
    const b = blame.get(t.key);
    if (b?.kind === 'cancelled') {
      changes.push({
        ...base,
        taskId: t.id,
        to: 'CANCELLED',
        reason: `dependency ${b.key} was cancelled`,
      });
    } else {
      requeueKeys.add(t.key);
    }
  }
  if (requeueKeys.size === 0) {
    return {
      requeue: [],
      changes,
      keptDone,
      goalEnd: cancelled ? 'CANCELLED' : 'DONE',
      cancelled,
      kept: [],
    };
  }

  const requeue: RequeuedTask[] = [];
  for (const t of ordered) {
    if (!requeueKeys.has(t.key)) continue;
    const deps = waitsOn(t);
    const waitsFor = deps.filter((d) => requeueKeys.has(d));
    const resolved: { [key: string]: Json } = {};
    const settle = (key: string) => {
      const dep = byKey.get(key)!;
      if (dep.state === 'DONE') resolved[key] = dep.result;
      else if (dep.state === 'FAILED') {
        resolved[key] = { error: { message: dep.error?.message ?? 'failed' } };
      }
    };
    for (const d of deps) {
      if (requeueKeys.has(d)) continue;
      settle(d);
      // A settled spawner's envelope carried what it spawned: so does its recovered result.
      for (const x of tree.descendants(d)) settle(x);
    }
    let epoch = t.epoch;
    // A task that has run before (interrupted, or PENDING between retries) runs again as a fresh
    // run: its new job counts attempts from 1, which in the old epoch the mirror would take for
    // stale changes older than SQL's attempt.
    if (
      t.state === 'ASSIGNED' ||
      t.state === 'ACTIVE' ||
      (t.state === 'PENDING' && t.attempt > 0)
    ) {
      epoch = t.epoch + 1;
      changes.push({ ...base, taskId: t.id, to: 'PENDING', epoch, attempt: 0, reason: REASON });
    } else if (t.state === 'BACKLOG' && waitsFor.length === 0) {
      changes.push({
        ...base,
        taskId: t.id,
        to: 'PENDING',
        reason: REASON,
        metrics: { queuedAt: at },
      });
    }
    const spawner = tree.spawnerOf.get(t.key);
    const children = tree.children.get(t.key) ?? [];
    const replacement = children.find((c) => replacesOf(byKey.get(c)!) === t.key);
    requeue.push({
      ...(replacement
        ? {
            repaired: {
              replacedBy: replacement,
              spawned: children.map((c) => [c, byKey.get(c)!.type] as [string, string]),
            },
          }
        : {}),
      spec: specOf(t, waitsFor),
      dependsOn: t.dependsOn,
      resolved,
      epoch,
      ...(spawner ? { spawnedBy: spawner } : {}),
    });
  }
  return { requeue, changes, keptDone, goalEnd: null, cancelled, kept: keptEntries(requeueKeys) };
}
