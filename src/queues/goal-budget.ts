/**
 * Goal budgets in Redis, where use rolls up atomically (the Lua is in goal-budget-lua.ts): the
 * budget record of a goal, the gate every task passes before it starts, use reports, pause,
 * resume and budget changes, and the copy to SQL (`syncGoalBudgets`: goal events to the audit log,
 * budget and use to the goals table) that the mirror leader runs and every operation runs after
 * its change. docs/budgets.md says what users see of it.
 */
import type { GoalBudget, GoalEventName, GoalRecord, GoalUsage } from '../entities/task-model';
import type { TaskStore } from '../entities/task-store';
import type { RedisConnection } from './connection';
import {
  ADD_USAGE,
  CLEAR_DIRTY,
  CREATE_IF_ABSENT,
  GATE,
  SET_BUDGET,
  SET_STATE,
} from './goal-budget-lua';
import { goalRecordKey } from './compiler';
import type { RedisCoordinator } from './redis-coordinator';

export const BUDGET_DIMENSIONS = ['tokens', 'costUsd', 'wallMs'] as const;
export type BudgetDimension = (typeof BUDGET_DIMENSIONS)[number];

/** A goal's budget record as Redis holds it. */
export interface GoalBudgetRecord {
  budget: GoalBudget | null;
  usage: GoalUsage;
  state: 'ACTIVE' | 'PAUSED';
  /** The highest crossing announced for the current budget. */
  level: '' | 'soft' | 'hard';
  rev: number;
  /** Who paused it, while PAUSED. */
  pausedBy: 'budget' | 'hand' | null;
  /** Tasks running when the budget paused the goal (they finish; nothing else starts). */
  runningAtPause: number | null;
  /** Tasks of the goal running now (started after the gate, not yet settled). */
  running: number;
  /** Tasks held back while the goal is PAUSED. */
  held: number;
}

/** A run's reference in the running and held sets: `<shard>|<queue>|<job id>`. */
export function runRef(shard: number, queue: string, jobId: string): string {
  return `${shard}|${queue}|${jobId}`;
}

function parseRunRef(ref: string): { shard: number; queue: string; jobId: string } {
  const [shard, queue, ...rest] = ref.split('|');
  return { shard: Number(shard), queue: queue!, jobId: rest.join('|') };
}

export function goalBudgetKeys(coordinator: RedisCoordinator, goalId: string) {
  const hash = coordinator.key('budget', goalId);
  return { hash, running: `${hash}:running`, held: `${hash}:held` };
}

function outboxKey(coordinator: RedisCoordinator): string {
  return coordinator.key('budget', '_outbox');
}

function dirtyKey(coordinator: RedisCoordinator): string {
  return coordinator.key('budget', '_dirty');
}

type BudgetClient = RedisConnection & {
  agentqBudgetAdd(n: number, ...args: Array<string | number>): Promise<[string, number, string]>;
  agentqBudgetGate(n: number, ...args: string[]): Promise<number>;
  agentqBudgetState(n: number, ...args: string[]): Promise<[string, number]>;
  agentqBudgetSet(n: number, ...args: string[]): Promise<[string, string | number, string]>;
  agentqBudgetCreate(n: number, ...args: string[]): Promise<number>;
  agentqBudgetClearDirty(n: number, ...args: string[]): Promise<number>;
};

const defined = new WeakSet<object>();

function budgetClient(client: RedisConnection): BudgetClient {
  if (!defined.has(client)) {
    client.defineCommand('agentqBudgetAdd', { lua: ADD_USAGE });
    client.defineCommand('agentqBudgetGate', { lua: GATE });
    client.defineCommand('agentqBudgetState', { lua: SET_STATE });
    client.defineCommand('agentqBudgetSet', { lua: SET_BUDGET });
    client.defineCommand('agentqBudgetCreate', { lua: CREATE_IF_ABSENT });
    client.defineCommand('agentqBudgetClearDirty', { lua: CLEAR_DIRTY });
    defined.add(client);
  }
  return client as BudgetClient;
}

function budgetFields(budget: GoalBudget | null): string[] {
  const out: string[] = [];
  for (const d of BUDGET_DIMENSIONS) {
    const value = budget?.[d];
    if (value !== undefined) out.push(`b_${d}`, String(value));
  }
  return out;
}

function ratioOf(budget: GoalBudget | null, usage: GoalUsage): number {
  let ratio = 0;
  for (const d of BUDGET_DIMENSIONS) {
    const limit = budget?.[d];
    if (limit !== undefined) ratio = Math.max(ratio, usage[d] / limit);
  }
  return ratio;
}

/** A new goal's budget record, written before its tasks can start. */
export async function initGoalBudget(
  coordinator: RedisCoordinator,
  goalId: string,
  budget: GoalBudget,
): Promise<void> {
  const { hash } = goalBudgetKeys(coordinator, goalId);
  await budgetClient(coordinator.client).agentqBudgetCreate(
    1,
    hash,
    'state',
    'ACTIVE',
    'level',
    '',
    'rev',
    '0',
    ...budgetFields(budget),
  );
}

/**
 * Writes a goal's budget record from SQL's copy when Redis has none (`agentq recover`): budget,
 * use, PAUSED and the revision, so a later copy to SQL is newer. False when one was there.
 */
export async function restoreGoalBudget(
  coordinator: RedisCoordinator,
  goal: GoalRecord,
): Promise<boolean> {
  if (!goal.budget && !goal.usage && goal.state !== 'PAUSED') return false;
  const usage = goal.usage ?? { tokens: 0, costUsd: 0, wallMs: 0 };
  const ratio = ratioOf(goal.budget, usage);
  const { hash } = goalBudgetKeys(coordinator, goal.id);
  const fields = [
    'state',
    goal.state === 'PAUSED' ? 'PAUSED' : 'ACTIVE',
    'level',
    ratio >= 1 ? 'hard' : ratio >= 0.8 ? 'soft' : '',
    'rev',
    String(goal.usageRev),
    ...budgetFields(goal.budget),
    ...BUDGET_DIMENSIONS.flatMap((d) => [`u_${d}`, String(usage[d])]),
    ...(goal.state === 'PAUSED' ? ['paused_by', ratio >= 1 ? 'budget' : 'hand'] : []),
  ];
  return (await budgetClient(coordinator.client).agentqBudgetCreate(1, hash, ...fields)) === 1;
}

function parseRecord(raw: Record<string, string>, running: number, held: number): GoalBudgetRecord {
  const budget: GoalBudget = {};
  for (const d of BUDGET_DIMENSIONS) {
    if (raw[`b_${d}`] !== undefined) budget[d] = Number(raw[`b_${d}`]);
  }
  const usage: GoalUsage = { tokens: 0, costUsd: 0, wallMs: 0 };
  for (const d of BUDGET_DIMENSIONS) usage[d] = Number(raw[`u_${d}`] ?? 0);
  const pausedBy = raw.paused_by === 'budget' || raw.paused_by === 'hand' ? raw.paused_by : null;
  return {
    budget: Object.keys(budget).length > 0 ? budget : null,
    usage,
    state: raw.state === 'PAUSED' ? 'PAUSED' : 'ACTIVE',
    level: raw.level === 'soft' || raw.level === 'hard' ? raw.level : '',
    rev: Number(raw.rev ?? 0),
    pausedBy,
    runningAtPause: raw.running ? Number(raw.running) : null,
    running,
    held,
  };
}

/** The goal's budget record; null when it has none (no budget, no use reported, never paused). */
export async function readGoalBudget(
  coordinator: RedisCoordinator,
  goalId: string,
): Promise<GoalBudgetRecord | null> {
  const keys = goalBudgetKeys(coordinator, goalId);
  const [raw, running, held] = await Promise.all([
    coordinator.client.hgetall(keys.hash),
    coordinator.client.scard(keys.running),
    coordinator.client.scard(keys.held),
  ]);
  if (!raw || Object.keys(raw).length === 0) return null;
  return parseRecord(raw, running, held);
}

/** The gate's answer: no budget record, run, or held (the goal is PAUSED). */
export type GateAnswer = 'untracked' | 'run' | 'held';

/** Before a run starts: counts it as running, or holds it when its goal is PAUSED. */
export async function passGate(
  coordinator: RedisCoordinator,
  goalId: string,
  ref: string,
): Promise<GateAnswer> {
  const keys = goalBudgetKeys(coordinator, goalId);
  const answer = await budgetClient(coordinator.client).agentqBudgetGate(
    3,
    keys.hash,
    keys.running,
    keys.held,
    ref,
  );
  return answer === 2 ? 'held' : answer === 1 ? 'run' : 'untracked';
}

export interface UsageDelta {
  tokens?: number;
  costUsd?: number;
  wallMs?: number;
}

export interface UsageOutcome {
  crossed: '' | 'soft' | 'hard';
  rev: number;
  state: 'ACTIVE' | 'PAUSED';
}

/**
 * Adds use to the goal's record in one atomic step; `settle` (a run ref) marks the run finished.
 * Crossing 80 % of a budget announces `soft`, 100 % `hard` and pauses the goal.
 */
export async function addGoalUsage(
  coordinator: RedisCoordinator,
  goalId: string,
  taskId: string,
  delta: UsageDelta,
  settle = '',
): Promise<UsageOutcome> {
  const keys = goalBudgetKeys(coordinator, goalId);
  const [crossed, rev, state] = await budgetClient(coordinator.client).agentqBudgetAdd(
    5,
    keys.hash,
    keys.running,
    outboxKey(coordinator),
    dirtyKey(coordinator),
    goalRecordKey(coordinator, goalId),
    goalId,
    String(delta.tokens ?? 0),
    String(delta.costUsd ?? 0),
    String(Math.round(delta.wallMs ?? 0)),
    settle,
    taskId,
    String(Date.now()),
  );
  return {
    crossed: crossed === 'soft' || crossed === 'hard' ? crossed : '',
    rev: Number(rev),
    state: state === 'PAUSED' ? 'PAUSED' : 'ACTIVE',
  };
}

/** Pauses or resumes by hand; false when the goal was in that state already. */
export async function setGoalRunState(
  coordinator: RedisCoordinator,
  goalId: string,
  to: 'PAUSED' | 'ACTIVE',
  actor: string | null,
): Promise<boolean> {
  const keys = goalBudgetKeys(coordinator, goalId);
  const [outcome] = await budgetClient(coordinator.client).agentqBudgetState(
    3,
    keys.hash,
    outboxKey(coordinator),
    dirtyKey(coordinator),
    goalId,
    to,
    actor ?? '',
    String(Date.now()),
  );
  return outcome === 'ok';
}

export type SetBudgetOutcome =
  { ok: true; state: 'ACTIVE' | 'PAUSED' } | { ok: false; field: BudgetDimension; used: number };

/** Sets the given budget fields (others stay); refused, nothing changed, when one is below use. */
export async function setGoalBudget(
  coordinator: RedisCoordinator,
  goalId: string,
  budget: GoalBudget,
  actor: string | null,
): Promise<SetBudgetOutcome> {
  const keys = goalBudgetKeys(coordinator, goalId);
  const [outcome, second, third] = await budgetClient(coordinator.client).agentqBudgetSet(
    3,
    keys.hash,
    outboxKey(coordinator),
    dirtyKey(coordinator),
    goalId,
    ...BUDGET_DIMENSIONS.map((d) => (budget[d] === undefined ? '' : String(budget[d]))),
    actor ?? '',
    String(Date.now()),
  );
  if (outcome === 'below') {
    return { ok: false, field: String(second) as BudgetDimension, used: Number(third) };
  }
  return { ok: true, state: third === 'PAUSED' ? 'PAUSED' : 'ACTIVE' };
}

/**
 * Lets the runs held while the goal was PAUSED go: each back to waiting (BullMQ's promote). A
 * run the gate held but not yet delayed promotes itself (see budget-gate.ts).
 */
export async function releaseHeldRuns(
  coordinator: RedisCoordinator,
  goalId: string,
): Promise<number> {
  const { held } = goalBudgetKeys(coordinator, goalId);
  const refs = await coordinator.client.smembers(held);
  let released = 0;
  for (const ref of refs) {
    await coordinator.client.srem(held, ref);
    const { shard, queue, jobId } = parseRunRef(ref);
    const job = await coordinator.queue(queue, shard).getJob(jobId);
    if (!job) continue;
    try {
      await job.promote();
      released++;
    } catch {
      // Not delayed (any more): it ran, was cancelled, or promotes itself.
    }
  }
  return released;
}

/** True while the goal's latest budget change has not been copied to SQL yet. */
export async function budgetCopyPending(
  coordinator: RedisCoordinator,
  goalId: string,
): Promise<boolean> {
  return (await coordinator.client.hexists(dirtyKey(coordinator), goalId)) === 1;
}

/** Removes a goal's budget record (retention: with the goal's jobs). */
export async function removeGoalBudget(
  coordinator: RedisCoordinator,
  goalId: string,
): Promise<void> {
  const keys = goalBudgetKeys(coordinator, goalId);
  await coordinator.client.del(keys.hash, keys.running, keys.held);
  await coordinator.client.hdel(dirtyKey(coordinator), goalId);
}

const OUTBOX_PAGE = 500;

function usageOf(fields: Record<string, string>): GoalUsage {
  return {
    tokens: Number(fields.u_tokens ?? 0),
    costUsd: Number(fields.u_costUsd ?? 0),
    wallMs: Number(fields.u_wallMs ?? 0),
  };
}

function budgetOf(fields: Record<string, string>): GoalBudget | null {
  const budget: GoalBudget = {};
  for (const d of BUDGET_DIMENSIONS) {
    const value = fields[`b_${d}`];
    if (value !== undefined && value !== '') budget[d] = Number(value);
  }
  return Object.keys(budget).length > 0 ? budget : null;
}

/**
 * Copies goal budgets from Redis to SQL: first the goal events of the outbox (each with the
 * budget and use of its moment, into the audit log), then the latest record of every goal that
 * changed since. Revisions make it safe to run anywhere, twice, or concurrently: SQL keeps the
 * newest copy and records each event once. Returns the events recorded.
 */
export async function syncGoalBudgets(
  store: Pick<TaskStore, 'updateGoalBudget'>,
  coordinator: RedisCoordinator,
): Promise<number> {
  const client = coordinator.client;
  // Records first, then the outbox: every event with a revision up to a record's is read.
  const dirty = await client.hgetall(dirtyKey(coordinator));
  const records = new Map<string, GoalBudgetRecord>();
  for (const goalId of Object.keys(dirty)) {
    const record = await readGoalBudget(coordinator, goalId);
    if (record) records.set(goalId, record);
    else await client.hdel(dirtyKey(coordinator), goalId);
  }
  let recorded = 0;
  for (;;) {
    const entries = await client.xrange(outboxKey(coordinator), '-', '+', 'COUNT', OUTBOX_PAGE);
    for (const [id, flat] of entries) {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
      const usage = usageOf(f);
      const budget = budgetOf(f);
      const event = await store.updateGoalBudget(f.goal!, {
        rev: Number(f.rev),
        budget,
        usage,
        state: f.state === 'PAUSED' ? 'PAUSED' : 'ACTIVE',
        event: {
          name: f.event as GoalEventName,
          actor: f.actor || null,
          at: new Date(Number(f.at)),
          detail: {
            usage,
            budget,
            ...(f.level === 'soft' || f.level === 'hard' ? { level: f.level } : {}),
            ...(f.task ? { taskId: f.task } : {}),
            ...(f.level === 'hard' && f.running ? { running: Number(f.running) } : {}),
          },
        },
      });
      if (event) recorded++;
      await client.xdel(outboxKey(coordinator), id);
    }
    if (entries.length < OUTBOX_PAGE) break;
  }
  for (const [goalId, record] of records) {
    await store.updateGoalBudget(goalId, {
      rev: record.rev,
      budget: record.budget,
      usage: record.usage,
      state: record.state,
    });
    await budgetClient(client).agentqBudgetClearDirty(
      1,
      dirtyKey(coordinator),
      goalId,
      dirty[goalId]!,
    );
  }
  return recorded;
}
