/**
 * The one typed registry of task, goal, event and agent shapes. The compiler, the processors,
 * the mirror, the bridge, the stores and the tests all use these; no `any` for task data.
 */
import type { TaskState } from './task-state';

/** JSON values, as stored in task data and results. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One task as written in a plan (file, object, planner output). */
export interface TaskSpec {
  /** Unique in its plan: letters, digits, `_`, `-`, `.`; at most 100 characters. */
  key: string;
  title: string;
  description?: string;
  /** The capability the task needs; names its BullMQ queue. */
  type: string;
  /** 1–10, 10 runs first. @defaultValue 5 */
  priority?: number;
  /** Keys of the tasks this one waits for. @defaultValue [] */
  dependsOn?: string[];
  /** Handler input, JSON, at most 1 MiB serialised. @defaultValue {} */
  data?: { [key: string]: Json };
  /** 1–100 attempts in all. @defaultValue 3 */
  attempts?: number;
  /** Per attempt; `ctx.signal` fires when it passes. @defaultValue 600000 */
  timeoutMs?: number;
  /** A failure does not fail its dependents; they get `{ error }` as its result. @defaultValue false */
  optional?: boolean;
  /**
   * Tasks with the same key share its per-key slots (`limits set CAP --per-key K`): a tenant, a
   * repository. @defaultValue none
   */
  concurrencyKey?: string;
  /**
   * Makes the task an approval: run by no agent (its `type` is `_approvals`), it waits for a
   * person's `task approve` / `task reject` once its dependencies have ended.
   */
  approval?: ApprovalSpec;
}

/** A plan task's `approval` (DESIGN.md, "Living goals"). */
export interface ApprovalSpec {
  /** What the person is asked. */
  prompt?: string;
  /** How long it waits for a decision before `onTimeout` decides; none: it waits for ever. */
  timeoutMs?: number;
  /** What a timeout decides. @defaultValue 'reject' */
  onTimeout?: 'approve' | 'reject';
}

/** A rate limit: at most `max` tasks started per `durationMs`. */
export interface RateLimit {
  /** Tasks started at most per window. */
  max: number;
  /** The window, in ms. */
  durationMs: number;
}

/** A capability's limits (DESIGN.md, "Limits and budgets"); validated in capability-limits.ts. */
export interface CapabilityLimits {
  /** Tasks of the capability running at once, over every agent and shard. */
  concurrency?: number;
  /** Tasks of the capability started per window, over every agent and shard. */
  rate?: RateLimit;
  /** Tasks running at once per `concurrencyKey` (tasks without a key are not counted). */
  perKey?: number;
}

/** The SQL copy of a capability's limits, which `agentq recover` restores to Redis. */
export interface CapabilityLimitsRecord {
  capability: string;
  limits: CapabilityLimits;
  updatedAt: Date;
}

/** A plan: a goal and its DAG of tasks (the shape of a plan file, JSON or YAML). */
export interface PlanSpec {
  goal: string;
  /** Idempotency key: submitting the same key again returns the existing goal. */
  key?: string;
  /** What the goal may spend; at 80 % a soft event, at 100 % the goal is PAUSED (docs/budgets.md). */
  budget?: GoalBudget;
  /**
   * A non-optional task that fails for good: `fail` the goal, or `replan` — the supervisor
   * repairs it with a patch (goal revision N; docs/living-goals.md). @defaultValue 'fail'
   */
  onFailure?: 'fail' | 'replan';
  /** At most this many revisions, then the goal fails. @defaultValue 3 */
  maxReplans?: number;
  tasks: TaskSpec[];
}

/** A goal's budget: any of the three; a missing one is unlimited. */
export interface GoalBudget {
  tokens?: number;
  costUsd?: number;
  wallMs?: number;
}

/** What a goal's tasks used so far: reported by handlers (`ctx.usage`) and measured (`wallMs`). */
export interface GoalUsage {
  tokens: number;
  costUsd: number;
  /** Run time of the goal's task attempts, summed. */
  wallMs: number;
}

/** A task spec with every default applied, as the compiler and stores see it. */
export type ResolvedTaskSpec = Required<Omit<TaskSpec, 'concurrencyKey' | 'approval'>> &
  Pick<TaskSpec, 'concurrencyKey' | 'approval'>;

/** PAUSED: no task of the goal starts (its budget ran out, or a person paused it). */
export const GOAL_STATES = ['ACTIVE', 'PAUSED', 'DONE', 'FAILED', 'CANCELLED'] as const;
export type GoalState = (typeof GOAL_STATES)[number];
/** A goal in one of these has not ended: its tasks may still run (or wait for a resume). */
export const OPEN_GOAL_STATES = ['ACTIVE', 'PAUSED'] as const satisfies readonly GoalState[];
/** How a goal ended. */
export type GoalEnd = Exclude<GoalState, (typeof OPEN_GOAL_STATES)[number]>;

export function isGoalOpen(state: GoalState): boolean {
  return (OPEN_GOAL_STATES as readonly GoalState[]).includes(state);
}

export interface TaskError {
  message: string;
  stack?: string;
  /** Set when a dependency's failure failed this task. */
  dependency?: string;
}

/** What agentq measures about a task; filled in by the agent and the mirror. */
export interface TaskMetrics {
  queuedAt: Date | null;
  claimedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  waitMs: number | null;
  durationMs: number | null;
  cpuMs: number | null;
  peakRssBytes: number | null;
  /** 0–1, set by the handler through `ctx.progress({ qualityScore })` or its result. */
  qualityScore: number | null;
}

export interface TaskRecord extends TaskMetrics {
  id: string;
  goalId: string;
  key: string;
  title: string;
  description: string;
  type: string;
  priority: number;
  data: { [key: string]: Json };
  dependsOn: string[];
  /** Attempts allowed in all. */
  attempts: number;
  timeoutMs: number;
  optional: boolean;
  state: TaskState;
  /** The attempt number the state belongs to (1-based; 0 before the first claim). */
  attempt: number;
  /** Manual retries (dead-letter redrives) so far; orders attempts across redrives. */
  epoch: number;
  agentId: string | null;
  progress: Json | null;
  result: Json | null;
  error: TaskError | null;
  createdAt: Date;
  updatedAt: Date;
  /** The task that spawned this one (ctx.spawn); null for planned tasks and goal extensions. */
  spawnedBy: string | null;
  /**
   * The audit actor that added this task to a running goal (addTasks); null for the tasks
   * submitted with the goal, whose `new` events name the goal's createdBy.
   */
  addedBy: string | null;
  /**
   * Set while an addTasks with deferRecord waits for recordTasks (or a change of the task) to
   * write its `new` event; null once recorded, and for every task not added that way.
   */
  deferredAt: Date | null;
}

export interface GoalRecord {
  id: string;
  /** Idempotency key, unique when set. */
  key: string | null;
  title: string;
  state: GoalState;
  /** Which planner or template made the plan (`template:feature`, `file`, `llm`, …). */
  planner: string;
  taskCount: number;
  /** The plan as submitted, kept so `agentq recover` can rebuild the goal's flow. */
  plan: PlanSpec;
  /** The audit actor that submitted the goal (its tasks' `new` events name it). */
  createdBy: string | null;
  createdAt: Date;
  /**
   * When the tasks' `new` events were written to the audit log. Null while a submission waits
   * for Redis to accept the goal's flow: a goal Redis refuses never reaches the log's sequence.
   */
  recordedAt: Date | null;
  finishedAt: Date | null;
  /** The budget now (the plan's, or as raised since); null when the goal has none. */
  budget: GoalBudget | null;
  /** Use so far as last copied from Redis (where it rolls up); null before any. */
  usage: GoalUsage | null;
  /** The Redis revision `budget`, `usage` and a PAUSED state were copied at (older copies lose). */
  usageRev: number;
}

/** Event names, one per pub/sub channel (`tasks:<event>`). */
export const TASK_EVENT_NAMES = [
  'new',
  'claimed',
  'updated',
  'complete',
  'failed',
  'cancelled',
] as const;
export type TaskEventName = (typeof TASK_EVENT_NAMES)[number];

/**
 * Goal events in the same audit log (task id = goal id; states are the goal's): `budget` (a
 * soft or hard crossing, published on `goals:budget`), `paused`, `resumed`, `budget_set`.
 */
export const GOAL_EVENT_NAMES = ['budget', 'paused', 'resumed', 'budget_set'] as const;
export type GoalEventName = (typeof GOAL_EVENT_NAMES)[number];

export function isGoalEventName(name: string): name is GoalEventName {
  return (GOAL_EVENT_NAMES as readonly string[]).includes(name);
}

/** What a goal event carries in `detail.budget`. */
export interface GoalBudgetDetail {
  level?: 'soft' | 'hard';
  usage: GoalUsage;
  budget: GoalBudget | null;
  /** The task whose use crossed the level. */
  taskId?: string;
  /** Tasks of the goal running when it was paused by its budget. */
  running?: number;
}

/** The event a transition into `to` is recorded as. */
export function eventNameFor(to: TaskState, from: TaskState | null): TaskEventName {
  if (from === null) return 'new';
  switch (to) {
    case 'ASSIGNED':
      return 'claimed';
    case 'DONE':
      return 'complete';
    case 'FAILED':
      return 'failed';
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'updated';
  }
}

/** One row of the append-only audit log. `seq` is gap-free across the whole deployment. */
export interface TaskEventRecord {
  seq: number;
  taskId: string;
  goalId: string;
  event: TaskEventName | GoalEventName;
  /** A task's states; a goal event's are the goal's (GoalState). */
  fromState: TaskState | GoalState | null;
  toState: TaskState | GoalState;
  attempt: number;
  agentId: string | null;
  /** Who asked for it, for mutations from people: `api:<token name>`, `cli`, `board`, … */
  actor: string | null;
  at: Date;
  /** result, error, progress or reason, as the transition carried them. */
  detail: {
    result?: Json;
    error?: TaskError;
    progress?: Json;
    reason?: string;
    budget?: GoalBudgetDetail;
  } | null;
}

/** A request to move a task; stores apply batches of these in one transaction. */
export interface TaskChange {
  taskId: string;
  to: TaskState;
  at: Date;
  /** The attempt this change belongs to. Older (epoch, attempt) than the task's: ignored as stale. */
  attempt?: number;
  /** Set by an explicit retry: starts a new epoch, attempts count again from 0. */
  epoch?: number;
  agentId?: string | null;
  actor?: string | null;
  result?: Json;
  error?: TaskError;
  progress?: Json;
  reason?: string;
  metrics?: Partial<TaskMetrics>;
  /**
   * Applies only to a task in one of these states; otherwise it is ignored like a stale change.
   * For moves whose meaning depends on where SQL has the task (a spawner's release, a resume).
   */
  onlyFrom?: readonly TaskState[];
}

export interface ApplyResult {
  /** The events recorded, in seq order. */
  events: TaskEventRecord[];
  /** Changes refused: an unknown task or an illegal transition. The rest still applied. */
  rejected: Array<{ change: TaskChange; error: Error }>;
  /** Changes from an older attempt than the task's current one: ignored, never applied. */
  stale: TaskChange[];
}

/** A live agent as the registry in Redis and the SQL mirror know it. */
export interface AgentInfo {
  id: string;
  capabilities: string[];
  host: string;
  pid: number;
  startedAt: Date;
  lastSeenAt: Date;
  running: string[];
  concurrency: number;
  /** capability → breaker state. */
  breakers: { [capability: string]: 'closed' | 'open' | 'half-open' };
}
