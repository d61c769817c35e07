/**
 * `agentq recover`: after Redis lost a deployment's keys (a flush, a fresh instance, a failover
 * without persistence), rebuild the flow of every goal SQL holds as ACTIVE whose root job is not
 * in `_goals` of its shard. What is done is not run again (recover-plan.ts decides); the SQL
 * transitions are written first, with actor `recover`, and the flow added after, so a recover
 * that dies half-way is simply run again. A goal Redis knows is never touched: running recover
 * twice does nothing the second time. A job hash without `data` is taken for absent: a fragment
 * a late write left after the wipe (an agent still running the job) is deleted before the flow
 * is added, else BullMQ would take it for the job itself and never queue the rebuilt one.
 *
 * ```ts
 * const report = await recoverGoals(registry, coordinator);
 * ```
 */
import type { FlowJob } from 'bullmq';
import {
  isGoalOpen,
  OPEN_GOAL_STATES,
  type ApprovalSpec,
  type ResolvedTaskSpec,
  type TaskRecord,
} from '../entities/task-model';
import type { TaskStore } from '../entities/task-store';
import { resetApprovals } from './approvals';
import { dropJobFragments, jobKey } from './bullmq-internals';
import { TASK_CANCELLED_FIELD } from './cancellation';
import { compileGoal, goalRecordKey, saveGoalRecord, type CompileInput } from './compiler';
import { restoreGoalBudget } from './goal-budget';
import { writeGoalFlow, type CompiledGoal } from './flow-writer';
import { taskJobKey } from './links';
import { GOALS_QUEUE } from './names';
import { shardOf } from './protocol';
import { planGoalRecovery, RECOVER_ACTOR, type KeptEntry, type RequeuedTask } from './recover-plan';
import { DEFAULT_MAX_REPLANS } from './plan-schema';
import { REVISIONS_FIELD, writeRepairSettings } from './repair';
import { revisionsOf } from './revisions';
import type { SpawnWait } from './spawn-wait';
import type { RedisCoordinator } from './redis-coordinator';
import { taskJobId, type TaskJobData } from './task-job';

export interface GoalRecoveryReport {
  goalId: string;
  title: string;
  /** `rebuilt`: a new flow runs the rest; otherwise the state the goal was ended in. */
  outcome: 'rebuilt' | 'DONE' | 'FAILED' | 'CANCELLED';
  requeued: string[];
  keptDone: string[];
  /** Open tasks ended because a dependency had failed or been cancelled. */
  ended: string[];
  /** Job hashes without `data` (fragments of lost jobs) deleted before the rebuild. */
  fragmentsDropped: number;
}

export interface RecoveryReport {
  /** Capabilities whose limits SQL holds, put back into Redis (and BullMQ's queues) first. */
  limitsRestored: string[];
  /** ACTIVE goals in SQL that were looked at. */
  checked: number;
  goals: GoalRecoveryReport[];
  /** Changes the store refused (another writer moved the task meanwhile). */
  rejected: Array<{ taskId: string; message: string }>;
}

export interface RecoverOptions {
  /** Called once per goal handled, for progress output. */
  onGoal?: (goal: GoalRecoveryReport) => void;
  now?: () => Date;
}

const PAGE = 1000;

/** Unfinished (ACTIVE or PAUSED) goals in SQL whose root job Redis does not have. */
export async function goalsRedisLost(
  store: TaskStore,
  coordinator: RedisCoordinator,
): Promise<{ checked: number; lost: string[] }> {
  const lost: string[] = [];
  let checked = 0;
  for (const state of OPEN_GOAL_STATES) {
    for (let offset = 0; ; offset += PAGE) {
      const goals = await store.listGoals({ state, limit: PAGE, offset });
      checked += goals.length;
      for (const goal of goals) {
        const queue = coordinator.queue(GOALS_QUEUE, shardOf(goal.id, coordinator.shards));
        if ((await queue.getJobState(goal.id)) === 'unknown') lost.push(goal.id);
      }
      if (goals.length < PAGE) break;
    }
  }
  return { checked, lost };
}

/** The compiled goal with each task job's full `dependsOn`, settled results and epoch put back. */
function restoredGoal(input: CompileInput, requeue: readonly RequeuedTask[]): CompiledGoal {
  const byKey = new Map(requeue.map((r) => [r.spec.key, r]));
  const goal = compileGoal(input);
  const stack: FlowJob[] = [goal.flow];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const data = node.data as Partial<TaskJobData> | undefined;
    const task = data?.kind === 'task' ? byKey.get(data.key!) : undefined;
    if (task) {
      const resolved = Object.keys(task.resolved).length > 0 ? { resolved: task.resolved } : {};
      const spawnedBy = task.spawnedBy
        ? { spawnedBy: taskJobId(input.goalId, task.spawnedBy) }
        : {};
      // A repaired task waits for its replacement, as it did before the loss (spawn-wait.ts).
      const spawnWait: { spawnWait?: SpawnWait } = task.repaired
        ? {
            spawnWait: {
              envelope: {
                v: 1,
                key: task.spec.key,
                result: null,
                agentId: RECOVER_ACTOR,
                attempt: 1,
                startedAt: Date.now(),
                finishedAt: Date.now(),
              },
              spawned: task.repaired.spawned,
              replacedBy: task.repaired.replacedBy,
            },
          }
        : {};
      node.data = {
        ...data,
        dependsOn: task.dependsOn,
        epoch: task.epoch,
        ...resolved,
        ...spawnedBy,
        ...spawnWait,
      };
    }
    for (const child of node.children ?? []) stack.push(child);
  }
  return goal;
}

/** Keys per script call: a goal's keys share its shard's slot, but replies stay small. */
const FRAGMENT_CHUNK = 500;

/** Deletes the fragments among the goal's job hashes (its root and every task's); how many. */
async function dropGoalFragments(
  coordinator: RedisCoordinator,
  goalId: string,
  shard: number,
  tasks: readonly TaskRecord[],
): Promise<number> {
  const keys = [
    jobKey(coordinator.bullPrefix(shard), GOALS_QUEUE, goalId),
    ...tasks.map((t) => taskJobKey(coordinator, shard, t.type, t.id)),
  ];
  let dropped = 0;
  for (let i = 0; i < keys.length; i += FRAGMENT_CHUNK) {
    dropped += await dropJobFragments(coordinator.client, keys.slice(i, i + FRAGMENT_CHUNK));
  }
  return dropped;
}

async function addRestoredFlow(
  coordinator: RedisCoordinator,
  input: CompileInput,
  requeue: readonly RequeuedTask[],
  cancelled: boolean,
  kept: KeptEntry[],
): Promise<void> {
  await coordinator.registerCapabilities([...new Set(input.tasks.map((t) => t.type))]);
  const spawnedBy = new Map(
    requeue.flatMap((r) => (r.spawnedBy ? [[r.spec.key, r.spawnedBy] as const] : [])),
  );
  await saveGoalRecord(coordinator, input, { spawnedBy, kept });
  if (cancelled) {
    // A task was cancelled before the loss: the goal worker must still end the goal CANCELLED.
    await coordinator.client.hsetnx(
      goalRecordKey(coordinator, input.goalId),
      TASK_CANCELLED_FIELD,
      JSON.stringify(RECOVER_ACTOR),
    );
  }
  await writeGoalFlow(coordinator, restoredGoal(input, requeue), { existingJobs: true });
}

/**
 * Rebuilds the flow of one goal SQL holds as ACTIVE from its SQL records (what is DONE is not run
 * again); null when the goal is not ACTIVE. Also how a re-opened goal (reopen-goal.ts) runs again.
 */
export async function recoverGoal(
  store: TaskStore,
  coordinator: RedisCoordinator,
  goalId: string,
  at: Date,
): Promise<{ report: GoalRecoveryReport; rejected: RecoveryReport['rejected'] } | null> {
  const goal = await store.getGoal(goalId);
  if (!goal || !isGoalOpen(goal.state)) return null;
  const tasks = await store.findTasks({ goalId, limit: Math.max(goal.taskCount, 1) });
  const plan = planGoalRecovery(
    tasks,
    goal.plan.tasks.map((t) => t.key),
    at,
  );
  const applied = await store.applyChanges(plan.changes);
  const rejected = applied.rejected.map((r) => ({
    taskId: r.change.taskId,
    message: r.error.message,
  }));
  const ended = plan.changes
    .filter((c) => c.to === 'FAILED' || c.to === 'CANCELLED')
    .map((c) => tasks.find((t) => t.id === c.taskId)!.key);
  const shard = shardOf(goalId, coordinator.shards);
  const report: GoalRecoveryReport = {
    goalId,
    title: goal.title,
    outcome: plan.goalEnd ?? 'rebuilt',
    requeued: plan.requeue.map((r) => r.spec.key),
    keptDone: plan.keptDone,
    ended,
    fragmentsDropped: await dropGoalFragments(coordinator, goalId, shard, tasks),
  };
  if (plan.goalEnd) {
    await store.setGoalState(goalId, plan.goalEnd, at);
    return { report, rejected };
  }
  // The SQL task rows hold no concurrencyKey and no approval; the goal's plan as submitted does.
  const keys = new Map(goal.plan.tasks.map((t) => [t.key, t.concurrencyKey]));
  const approvalByKey = new Map(
    goal.plan.tasks.flatMap((t) => (t.approval ? [[t.key, t.approval] as const] : [])),
  );
  const input: CompileInput = {
    goalId,
    title: goal.title,
    shard,
    tasks: plan.requeue.map((r) => {
      const concurrencyKey = keys.get(r.spec.key);
      const spec = withApproval(r.spec, approvalByKey.get(r.spec.key));
      return concurrencyKey ? { ...spec, concurrencyKey } : spec;
    }),
  };
  // Budget, use and a PAUSED state first: the rebuilt tasks meet them at the gate.
  await restoreGoalBudget(coordinator, goal);
  await resetApprovals(coordinator, shard, approvalsOf(tasks, input));
  if (goal.plan.onFailure === 'replan') {
    // The repair settings and the revisions so far: a failure after the rebuild repairs on.
    await writeRepairSettings(coordinator, goalId, {
      maxReplans: goal.plan.maxReplans ?? DEFAULT_MAX_REPLANS,
    });
    await coordinator.client.hset(
      goalRecordKey(coordinator, goalId),
      REVISIONS_FIELD,
      String(revisionsOf(tasks).length),
    );
  }
  await addRestoredFlow(coordinator, input, plan.requeue, plan.cancelled, plan.kept);
  return { report, rejected };
}

function withApproval(
  spec: ResolvedTaskSpec,
  approval: ApprovalSpec | undefined,
): ResolvedTaskSpec {
  return approval ? { ...spec, approval } : spec;
}

/**
 * The approval tasks to re-queue; one SQL records as awaiting approval (PENDING) keeps when it
 * began to wait (approvals.ts, `resetApprovals`).
 */
function approvalsOf(
  tasks: readonly TaskRecord[],
  input: CompileInput,
): Array<{ taskId: string; since: number | null }> {
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  return input.tasks
    .filter((spec) => spec.approval)
    .map((spec) => {
      const task = byKey.get(spec.key);
      const since = task?.state === 'PENDING' ? (task.queuedAt ?? task.createdAt).getTime() : null;
      return { taskId: taskJobId(input.goalId, spec.key), since };
    });
}

/** Rebuilds every unfinished goal Redis lost; returns what it did. */
export async function recoverGoals(
  store: TaskStore,
  coordinator: RedisCoordinator,
  options: RecoverOptions = {},
): Promise<RecoveryReport> {
  const now = options.now ?? (() => new Date());
  // Limits first: the rebuilt tasks are claimed under them from their first moment.
  const limitsRestored = await restoreCapabilityLimits(store, coordinator);
  const { checked, lost } = await goalsRedisLost(store, coordinator);
  const out: RecoveryReport = { limitsRestored, checked, goals: [], rejected: [] };
  for (const goalId of lost) {
    const done = await recoverGoal(store, coordinator, goalId, now());
    if (!done) continue;
    out.goals.push(done.report);
    out.rejected.push(...done.rejected);
    options.onGoal?.(done.report);
  }
  return out;
}

/** Writes every capability's limits SQL holds back to Redis; returns those capabilities. */
export async function restoreCapabilityLimits(
  store: TaskStore,
  coordinator: RedisCoordinator,
): Promise<string[]> {
  const records = await store.listCapabilityLimits();
  for (const record of records) {
    await coordinator.setCapabilityLimits(record.capability, record.limits);
  }
  return records.map((r) => r.capability);
}
