/**
 * Repair (DESIGN.md "Living goals"): in a goal whose plan says `"onFailure": "replan"`, a
 * non-optional task whose handler fails for good is not failed. A planner writes a patch — tasks
 * to add, one of them `replaces` the failed task — which is validated and written like a spawn
 * under the failed task's job (goal revision N, at most `maxReplans`). The failed task then waits
 * for its replacement and ends with the replacement's result, so its dependents wait for the
 * replacement and get its result under the failed task's key (and the replacement's under its
 * own). When no revision is left, or the planner has nothing more, the task fails as usual.
 *
 * The template planner: retry once as `<key>.retry1` with the error in its data; when that fails
 * too, an approval `<key>.resolve` and a second retry `<key>.retry2` after it — approving re-runs
 * the task, rejecting fails the goal.
 */
import type { Json, TaskSpec } from '../entities/task-model';
import type { RedisConnection } from './connection';
import { JOB_FIELDS } from './bullmq-internals';
import { goalRecordKey, loadGoalRecord } from './compiler';
import { APPROVALS_QUEUE, GOALS_QUEUE } from './names';
import type { RedisCoordinator } from './redis-coordinator';
import { taskJobId, type TaskJobData } from './task-job';
import { InputError } from '../errors';
import { endUnfinished, publishCancel, requireGoalRecord, withDependents } from './cancellation';

/** The goal record hash field of a replanning goal's settings (absent: failures fail). */
export const REPAIR_FIELD = 'repair';
/** The goal record hash field counting the goal's revisions. */
export const REVISIONS_FIELD = 'revisions';

export interface RepairSettings {
  maxReplans: number;
}

/** What every patch task carries in `data.repair`: the revision it belongs to and why. */
export interface RepairNote {
  revision: number;
  /** The key of the task that failed. */
  of: string;
  error: string;
  /** The failed key this task replaces (only on the replacement). */
  replaces?: string;
  /** The tasks the patch cancelled (only on the replacement). */
  cancelled?: string[];
  /** Who wrote the patch: `repair:template`, `repair:llm`. */
  by: string;
}

/** What a planner gets to repair a failed task. */
export interface RepairInput {
  goalId: string;
  failed: Pick<
    TaskJobData,
    'key' | 'title' | 'description' | 'type' | 'priority' | 'data' | 'dependsOn' | 'timeoutMs'
  > & { attempts: number };
  error: string;
  revision: number;
  /** The goal's text and graph (`[key, type, dependsOn]`), for a planner that reasons on it. */
  goal: { title: string; tasks: Array<[key: string, type: string, dependsOn: string[]]> };
  /** The failed task's dependencies' results, by key. */
  results: { [key: string]: Json };
  /**
   * Checks a patch against the goal: its tasks as a spawn would, its cancellations as not
   * started and not needed by the patch (throws InputError naming the field).
   */
  validate(tasks: TaskSpec[], cancel?: string[]): Promise<void>;
}

/**
 * A planner's patch: tasks to add (`replaces` names the failed task on its replacement) and keys
 * of not-started tasks to cancel, with what depends on them (they no longer make sense).
 */
export interface RepairPatch {
  tasks: Array<TaskSpec & { replaces?: string }>;
  cancel?: string[];
  planner: string;
}

export interface RepairPlanner {
  repair(input: RepairInput): Promise<RepairPatch | null>;
}

export async function writeRepairSettings(
  coordinator: RedisCoordinator,
  goalId: string,
  settings: RepairSettings,
): Promise<void> {
  await coordinator.client.hset(
    goalRecordKey(coordinator, goalId),
    REPAIR_FIELD,
    JSON.stringify(settings),
  );
}

/**
 * KEYS[1] the goal record hash. Takes the next revision number when the goal replans and has a
 * revision left: returns it, or 0 (no repair: fail as usual).
 */
const CLAIM_LUA = `
local raw = redis.call('HGET', KEYS[1], '${REPAIR_FIELD}')
if not raw then return 0 end
local max = tonumber(string.match(raw, '"maxReplans":(%d+)')) or 0
local used = tonumber(redis.call('HGET', KEYS[1], '${REVISIONS_FIELD}') or '0')
if used >= max then return 0 end
return redis.call('HINCRBY', KEYS[1], '${REVISIONS_FIELD}', 1)
`;

type ClaimClient = RedisConnection & { agentqClaimRevision(key: string): Promise<number> };
const defined = new WeakSet<object>();

/** The goal's next revision number, or 0 when it does not replan or has none left. */
export async function claimRevision(
  coordinator: RedisCoordinator,
  goalId: string,
): Promise<number> {
  const client = coordinator.client as ClaimClient;
  if (!defined.has(client)) {
    client.defineCommand('agentqClaimRevision', { lua: CLAIM_LUA, numberOfKeys: 1 });
    defined.add(client);
  }
  return client.agentqClaimRevision(goalRecordKey(coordinator, goalId));
}

/** A revision not used after all (the patch was invalid): the count goes back. */
export async function releaseRevision(coordinator: RedisCoordinator, goalId: string) {
  await coordinator.client.hincrby(goalRecordKey(coordinator, goalId), REVISIONS_FIELD, -1);
}

const RETRY1 = '.retry1';
const RETRY2 = '.retry2';
const RESOLVE = '.resolve';

/** The template repair (see the module comment); null when its steps are used up. */
export const templateRepair: RepairPlanner = {
  async repair({ failed, error }) {
    const { key } = failed;
    if (key.endsWith(RETRY2) || key.endsWith(RESOLVE)) return null;
    const base = key.endsWith(RETRY1) ? key.slice(0, -RETRY1.length) : key;
    const retry = (suffix: string, extraDeps: string[] = []): TaskSpec & { replaces: string } => ({
      key: `${base}${suffix}`,
      title: failed.title,
      description: failed.description,
      type: failed.type,
      priority: failed.priority,
      dependsOn: [...failed.dependsOn, ...extraDeps],
      data: { ...failed.data, error: { message: error } as Json },
      attempts: failed.attempts,
      timeoutMs: failed.timeoutMs,
      replaces: key,
    });
    if (!key.endsWith(RETRY1)) return { tasks: [retry(RETRY1)], planner: 'template' };
    const resolve: TaskSpec = {
      key: `${base}${RESOLVE}`,
      title: `Resolve: ${failed.title}`.slice(0, 500),
      type: APPROVALS_QUEUE,
      dependsOn: [],
      approval: {
        prompt:
          `Task ${base} failed twice (last: ${error}). ` +
          'Approve to run it once more; reject to fail the goal.',
      },
    };
    return { tasks: [resolve, retry(RETRY2, [resolve.key])], planner: 'template' };
  },
};

/** The goal's text (its root job's title) and graph (its record), for a repair planner. */
export async function repairContext(
  coordinator: RedisCoordinator,
  data: Pick<TaskJobData, 'goalId' | 'shard'>,
): Promise<RepairInput['goal']> {
  const root = coordinator.queue(GOALS_QUEUE, data.shard).toKey(data.goalId);
  const [raw, record] = await Promise.all([
    coordinator.client.hget(root, JOB_FIELDS.data),
    loadGoalRecord(coordinator, data.goalId),
  ]);
  const title = raw ? ((JSON.parse(raw) as { title?: string }).title ?? '') : '';
  return {
    title,
    tasks: (record?.tasks ?? []).map(([key, type, dependsOn]) => [key, type, dependsOn]),
  };
}

const NOT_STARTED = new Set(['waiting', 'waiting-children', 'prioritized', 'delayed', 'paused']);

/**
 * A patch's cancellations, checked: tasks of the goal, not the failed one, not needed by the
 * patch's tasks, not started (their jobs still wait).
 */
export async function checkCancellations(
  coordinator: RedisCoordinator,
  data: Pick<TaskJobData, 'goalId' | 'shard' | 'key'>,
  tasks: readonly TaskSpec[],
  cancel: readonly string[],
): Promise<void> {
  if (cancel.length === 0) return;
  const record = await loadGoalRecord(coordinator, data.goalId);
  const typeOf = new Map((record?.tasks ?? []).map(([key, type]) => [key, type]));
  const needed = new Set(tasks.flatMap((t) => t.dependsOn ?? []));
  for (const [i, key] of cancel.entries()) {
    const field = `cancel[${i}]`;
    const type = typeOf.get(key);
    if (!type) throw new InputError(`unknown task key '${key}'`, field);
    if (key === data.key)
      throw new InputError(`'${key}' is the failed task: it is replaced`, field);
    if (needed.has(key)) throw new InputError(`'${key}' is a dependency of the patch`, field);
    const state = await coordinator
      .queue(type, data.shard)
      .getJobState(taskJobId(data.goalId, key));
    if (!NOT_STARTED.has(state)) {
      throw new InputError(
        `'${key}' has started (${state}): only a waiting task is cancelled`,
        field,
      );
    }
  }
}

/**
 * Ends a patch's cancellations and what depends on them as CANCELLED (actor: the planner), the
 * way a cancel does, without marking the goal cancelled: the goal goes on and may end DONE.
 */
export async function applyCancellations(
  coordinator: RedisCoordinator,
  goalId: string,
  cancel: readonly string[],
  actor: string,
): Promise<void> {
  if (cancel.length === 0) return;
  const record = await requireGoalRecord(coordinator, goalId);
  const keys = new Set<string>();
  for (const key of cancel) for (const k of withDependents(record, key)) keys.add(k);
  const running = await endUnfinished(coordinator, record, keys, () => ({
    to: 'CANCELLED',
    actor,
  }));
  await publishCancel(coordinator, running, actor);
}
