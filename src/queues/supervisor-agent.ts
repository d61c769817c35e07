/**
 * The supervisor: turns goals into plans (planners) and plans into BullMQ flows (compiler), and
 * cancels. It never executes tasks. Submitting is: validate → one SQL transaction (the goal and
 * all its tasks, not yet in the audit log) → the goal's record in Redis, then every job of the
 * flow and its links in one MULTI (compiler.ts `addGoalFlow`, flow-writer.ts; not BullMQ's
 * FlowProducer) → the tasks' `new` events. When Redis refuses the flow, the record and the goal
 * are deleted again before it took a seq, so nothing is ever half-created nor half-recorded. Validation errors are thrown before
 * anything is written. Its configuration comes from its caller (`createAgentSystem`, `serve` and
 * the CLI pass the environment's templates directory and LLM endpoint); it reads none itself.
 */
import type { GoalRecord, PlanSpec, TaskRecord } from '../entities/task-model';
import type { CreateTaskInput } from '../interface/operations/create-task';
import type { TaskRegistry } from '../entities/task-registry';
import type { NewTask } from '../entities/task-store';
import { ConflictError, ConnectionError, InputError, NotFoundError } from '../errors';
import { isGoalOpen } from '../entities/task-model';
import { planExtension, type ExistingTask } from './extension-plan';
import { writeRepairSettings } from './repair';
import { addTasksToFlow, goalRootRef, goalRootWaits } from './goal-extension';
import { cancelGoal } from '../interface/operations/cancel-goal';
import { cancelTask, type CancelTaskOutcome } from '../interface/operations/cancel-task';
import { createTask } from '../interface/operations/create-task';
import { addGoalFlow } from './compiler';
import { initGoalBudget, removeGoalBudget } from './goal-budget';
import { goalIdFor } from './goal-ids';
import { loadPlanFile } from './plan-loader';
import { resolvePlan, toPlanSpec } from './plan-schema';
import { LlmPlanner } from './planners/llm-planner';
import type { Planner } from './planners/planner';
import { loadUserTemplates, TemplatePlanner } from './planners/template-planner';
import { shardOf } from './protocol';
import type { RedisCoordinator } from './redis-coordinator';
import { taskJobId } from './task-job';

export interface SupervisorOptions {
  /** Directory of YAML plan templates, tried before the built-ins. @defaultValue none */
  templatesDir?: string | null;
  /** OpenAI-compatible endpoint for the `llm` planner. @defaultValue none */
  llm?: { url: string; model: string; apiKey?: string | null } | null;
  /** Who is recorded as having created goals. @defaultValue 'supervisor' */
  actor?: string;
  onWarning?: (message: string) => void;
  /**
   * How long a submit waits for Redis to take a one-key probe write, made before anything is
   * written to SQL (paused or overloaded Redis: `CLIENT PAUSE WRITE`, a failover), before it gives
   * up with a `ConnectionError` (HTTP 503). @defaultValue 5000
   */
  redisWriteTimeoutMs?: number;
}

/** Rejects with `ConnectionError` when `work` has not settled within `ms`. */
async function withinMs<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConnectionError(`Redis did not take ${what} within ${ms} ms; retry later`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SubmittedGoal {
  goalId: string;
  tasks: TaskRecord[];
  /** Which planner made the plan: `template:feature`, `llm`, `file`, `object`. */
  planner: string;
  /** The template's name when a template planner made it. */
  template?: string;
  /** False when the idempotency key named an existing goal, which is returned. */
  created: boolean;
}

/** What `extendGoal` added (or found there already). */
export interface ExtendedGoal {
  goalId: string;
  /** Every task the call named, as stored now. */
  tasks: TaskRecord[];
  /** The ids this call added; a repeat of the same keys adds none. */
  created: string[];
}

/** Who submits, per call; the supervisor's own `actor` otherwise. */
export interface SubmitOptions {
  /** The audit actor recorded as the goal's creator. @defaultValue SupervisorOptions.actor */
  actor?: string;
  /** Recorded as the goal's planner. @defaultValue 'object' (a plan object), 'file' (a path) */
  plannerName?: string;
}

export class SupervisorAgent {
  private readonly options: SupervisorOptions;
  private templatePlanner: Promise<TemplatePlanner> | null = null;

  constructor(
    private readonly registry: TaskRegistry,
    private readonly redis: RedisCoordinator,
    options: SupervisorOptions = {},
  ) {
    this.options = options;
  }

  private templates(): Promise<TemplatePlanner> {
    this.templatePlanner ??= (async () => {
      const dir = this.options.templatesDir;
      return new TemplatePlanner({ templates: dir ? await loadUserTemplates(dir) : [] });
    })();
    return this.templatePlanner;
  }

  private async planner(choice: 'template' | 'llm' | Planner | undefined): Promise<Planner> {
    if (choice && typeof choice === 'object') return choice;
    const templates = await this.templates();
    if (choice === 'template' || (!choice && !this.options.llm)) return templates;
    if (!this.options.llm)
      throw new InputError('no LLM endpoint is configured (AGENTQ_LLM_URL)', 'planner');
    return new LlmPlanner({
      ...this.options.llm,
      fallback: templates,
      onFallback: this.options.onWarning,
    });
  }

  /** A goal as text → a plan by a planner (`llm` when configured, else templates) → a running goal. */
  async executeGoal(
    text: string,
    options: { key?: string; planner?: 'template' | 'llm' | Planner; actor?: string } = {},
  ): Promise<SubmittedGoal> {
    if (typeof text !== 'string' || text.trim() === '') throw new InputError('is required', 'goal');
    const planner = await this.planner(options.planner);
    const planned = await planner.plan(text.trim(), options.key ? { key: options.key } : {});
    return this.submit(planned.plan, planned.planner, options.actor);
  }

  /** A plan object, or the path of a plan file (JSON or YAML) → a running goal. */
  async submitPlan(plan: PlanSpec | string, options: SubmitOptions = {}): Promise<SubmittedGoal> {
    if (typeof plan === 'string') {
      return this.submit(await loadPlanFile(plan), options.plannerName ?? 'file', options.actor);
    }
    return this.submit(plan, options.plannerName ?? 'object', options.actor);
  }

  /** A single task, as a goal of one task (the `createTask` operation). Returns the task. */
  createTask(input: CreateTaskInput, actor = this.actor): Promise<TaskRecord> {
    return createTask(this.deps(), input, actor);
  }

  private get actor(): string {
    return this.options.actor ?? 'supervisor';
  }

  private deps() {
    return { store: this.registry, coordinator: this.redis, goals: this };
  }

  private async submit(
    input: unknown,
    plannerName: string,
    actor = this.actor,
  ): Promise<SubmittedGoal> {
    const plan = resolvePlan(input);
    const template = plannerName.startsWith('template:') ? plannerName.split(/[: ]/)[1] : undefined;
    const goalId = goalIdFor(plan.key);
    if (plan.key) {
      const existing = await this.registry.getGoalByKey(plan.key);
      if (existing) return this.existing(existing, template);
    }
    const writeTimeoutMs = this.options.redisWriteTimeoutMs ?? 5000;
    // One tiny write first: when Redis refuses writes (paused, failing over) the caller gets a
    // 503 before anything is written to SQL, and no late flow lands in Redis afterwards.
    await withinMs(
      this.redis.client.set(this.redis.key('writable'), '1', 'PX', 60_000),
      writeTimeoutMs,
      'a write',
    );
    const tasks: NewTask[] = plan.tasks.map((t) => ({
      ...t,
      id: taskJobId(goalId, t.key),
      state: t.dependsOn.length > 0 ? 'BACKLOG' : 'PENDING',
    }));
    const created = await this.registry.createGoal(
      {
        id: goalId,
        key: plan.key,
        title: plan.goal,
        planner: plannerName,
        plan: toPlanSpec(plan),
        budget: plan.budget,
      },
      tasks,
      actor,
      // Its `new` events wait until Redis accepted the flow (recordGoal below): a refused goal
      // then leaves no hole in the audit log's seq and publishes nothing.
      { deferRecord: true },
    );
    if (!created.created) return this.existing(created.goal, template);
    try {
      // Not bounded: a 10,000-task flow may take seconds, and giving up would leave its late
      // writes in Redis after the goal left SQL. The probe above catches a paused Redis.
      await this.redis.registerCapabilities([...new Set(plan.tasks.map((t) => t.type))]);
      // Before any task exists: the first one to start already meets its budget.
      if (plan.budget) await initGoalBudget(this.redis, goalId, plan.budget);
      // Before any task can fail: a failure meets the goal's repair settings (repair.ts).
      if (plan.onFailure === 'replan') {
        await writeRepairSettings(this.redis, goalId, { maxReplans: plan.maxReplans });
      }
      await addGoalFlow(this.redis, {
        goalId,
        title: plan.goal,
        shard: shardOf(goalId, this.redis.shards),
        tasks: plan.tasks,
      });
    } catch (error) {
      await this.registry.deleteGoal(goalId).catch(() => undefined);
      if (plan.budget) await removeGoalBudget(this.redis, goalId).catch(() => undefined);
      throw error;
    }
    // The goal runs whatever happens here: a failed write is done by the mirror, which records
    // a goal's `new` events before the first change of its tasks.
    await this.registry.recordGoal(goalId).catch((error: Error) => {
      this.options.onWarning?.(`goal ${goalId}: its creation is recorded later (${error.message})`);
    });
    return {
      goalId,
      tasks: created.tasks,
      planner: plannerName,
      created: true,
      ...(template ? { template } : {}),
    };
  }

  /**
   * Adds tasks to a running goal (DESIGN.md "Living goals"): validated like a plan against the
   * goal's tasks (`dependsOn` may name any of them; a finished one counts at once with its
   * result), written like a submission — SQL rows without their `new` events, then Redis in one
   * MULTI, then the events — and the goal does not end before they do. Keys the goal has already
   * are returned, not added. A goal that has ended: ConflictError (409).
   */
  async extendGoal(
    goalId: string,
    tasks: unknown,
    options: { actor?: string } = {},
  ): Promise<ExtendedGoal> {
    const goal = await this.registry.getGoal(goalId);
    if (!goal) throw new NotFoundError('goal', goalId);
    const ended = () =>
      new ConflictError(`goal ${goalId} has ended (${goal.state}): no task can be added to it`);
    if (!isGoalOpen(goal.state)) throw ended();
    const current = await this.registry.findTasks({ goalId, limit: goal.taskCount });
    const existing = new Map<string, ExistingTask>(
      current.map((t) => [
        t.key,
        { key: t.key, type: t.type, state: t.state, optional: t.optional },
      ]),
    );
    const { fresh } = planExtension(tasks, existing);
    const named = (list: readonly { key: string }[]) => new Set(list.map((t) => t.key));
    const wanted = named((tasks as Array<{ key: string }>) ?? []);
    if (fresh.length === 0) {
      return { goalId, tasks: current.filter((t) => wanted.has(t.key)), created: [] };
    }
    await withinMs(
      this.redis.client.set(this.redis.key('writable'), '1', 'PX', 60_000),
      this.options.redisWriteTimeoutMs ?? 5000,
      'a write',
    );
    const shard = shardOf(goalId, this.redis.shards);
    if (!(await goalRootWaits(this.redis, goalId, shard))) throw ended();
    const settled = (key: string) => {
      const t = existing.get(key);
      return t !== undefined && (t.state === 'DONE' || t.state === 'FAILED');
    };
    const rows: NewTask[] = fresh.map((t) => ({
      ...t,
      id: taskJobId(goalId, t.key),
      state: t.dependsOn.every(settled) ? 'PENDING' : 'BACKLOG',
    }));
    const actor = options.actor ?? this.actor;
    const added = await this.registry.addTasks(goalId, rows, actor, { deferRecord: true });
    try {
      await addTasksToFlow(this.redis, {
        goalId,
        shard,
        tasks: fresh,
        existing,
        parent: { ref: goalRootRef(this.redis, goalId, shard), onFailure: 'continue' },
      });
    } catch (error) {
      await this.registry.deleteTasks(added.created).catch(() => undefined);
      throw error;
    }
    await this.registry.recordTasks(added.created).catch((error: Error) => {
      this.options.onWarning?.(
        `goal ${goalId}: the added tasks are recorded later (${error.message})`,
      );
    });
    const all = [...current.filter((t) => wanted.has(t.key)), ...added.tasks];
    return { goalId, tasks: all, created: added.created };
  }

  private async existing(goal: GoalRecord, template?: string): Promise<SubmittedGoal> {
    const tasks = await this.registry.findTasks({ goalId: goal.id, limit: goal.taskCount });
    return {
      goalId: goal.id,
      tasks,
      planner: goal.planner,
      created: false,
      ...(template ? { template } : {}),
    };
  }

  async getGoal(goalId: string): Promise<{ goal: GoalRecord; tasks: TaskRecord[] }> {
    const goal = await this.registry.getGoal(goalId);
    if (!goal) throw new NotFoundError('goal', goalId);
    return { goal, tasks: await this.registry.findTasks({ goalId, limit: goal.taskCount }) };
  }

  /** Cancels a task and its dependents (the `cancelTask` operation). */
  cancelTask(taskId: string, actor: string | null = this.actor): Promise<CancelTaskOutcome> {
    return cancelTask(this.deps(), { taskId }, actor);
  }

  /** Cancels every unfinished task of the goal (the `cancelGoal` operation). */
  async cancelGoal(goalId: string, actor: string | null = this.actor): Promise<void> {
    await cancelGoal(this.deps(), { goalId }, actor);
  }

  /** The supervisor owns no connection: the registry and the coordinator are closed by their owner. */
  async close(): Promise<void> {}
}
