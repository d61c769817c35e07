/**
 * `/metrics` in the Prometheus text format, from a registry of our own (never prom-client's
 * global one, so several apps in one process do not clash). Gauges are read on each scrape: tasks
 * by state and capability from the store, queue depth per queue and shard, live agents and their
 * breaker states from the agent registry in Redis. The run-time histogram is fed from finished
 * tasks (`observeFinished`); the mirror's metrics (lag) are registered when given. Goal budgets:
 * budget, use and paused per unfinished goal that has a budget (at most 100 goals).
 */
import { Router } from 'express';
import { collectDefaultMetrics, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { TaskStore } from '../entities/task-store';
import { viewCapabilityLimits } from '../queues/limits-view';
import { openGoalBudgets } from '../interface/goal-budgets';
import { BUDGET_DIMENSIONS } from '../queues/goal-budget';
import { countAwaitingApprovals } from '../queues/approvals';
import { INTERNAL_QUEUES } from '../queues/names';
import type { RedisCoordinator } from '../queues/redis-coordinator';

export interface MetricsOptions {
  store: TaskStore;
  coordinator: RedisCoordinator;
  /** Other parts' metric objects to expose too (the mirror's lag histogram). @defaultValue [] */
  extra?: readonly Metric[];
}

export interface AppMetrics {
  registry: Registry;
  router: Router;
  /** Records a finished task's run time (handler start to end). */
  observeFinished(type: string, state: 'DONE' | 'FAILED', durationMs: number): void;
}

const QUEUE_STATES = [
  'waiting',
  'prioritized',
  'waiting-children',
  'active',
  'delayed',
  'failed',
  'completed',
] as const;

const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;
/** Goals with budget series in `/metrics`, paused ones first. */
const MAX_BUDGET_GOALS = 100;

export function createMetrics(options: MetricsOptions): AppMetrics {
  const { store, coordinator } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'agentq_process_' });

  new Gauge({
    name: 'agentq_tasks',
    help: 'Tasks in the SQL mirror by state and capability',
    labelNames: ['state', 'type'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [type, byState] of Object.entries(await store.countByType())) {
        for (const [state, count] of Object.entries(byState)) this.set({ state, type }, count);
      }
    },
  });

  new Gauge({
    name: 'agentq_queue_jobs',
    help: 'BullMQ jobs per queue, shard and job state (queue depth)',
    labelNames: ['queue', 'shard', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const names = [...(await coordinator.capabilities()), ...INTERNAL_QUEUES];
      for (let shard = 0; shard < coordinator.shards; shard++) {
        for (const queue of names) {
          const counts = await coordinator.queue(queue, shard).getJobCounts(...QUEUE_STATES);
          for (const state of QUEUE_STATES) {
            this.set({ queue, shard: String(shard), state }, counts[state] ?? 0);
          }
        }
      }
    },
  });

  new Gauge({
    name: 'agentq_capability_limit',
    help: 'Capability limits (agentq limits set): concurrency, rate_max, rate_window_seconds, per_key',
    labelNames: ['capability', 'limit'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [capability, limits] of Object.entries(await coordinator.allCapabilityLimits())) {
        if (limits.concurrency !== undefined)
          this.set({ capability, limit: 'concurrency' }, limits.concurrency);
        if (limits.rate) {
          this.set({ capability, limit: 'rate_max' }, limits.rate.max);
          this.set({ capability, limit: 'rate_window_seconds' }, limits.rate.durationMs / 1000);
        }
        if (limits.perKey !== undefined) this.set({ capability, limit: 'per_key' }, limits.perKey);
      }
    },
  });

  new Gauge({
    name: 'agentq_key_slots',
    help: 'Per-key concurrency: slots held, keys holding, tasks parked, keys parked, per capability',
    labelNames: ['capability', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const view of await viewCapabilityLimits(coordinator)) {
        if (!view.keys) continue;
        const { capability } = view;
        this.set({ capability, state: 'running' }, view.keys.running);
        this.set({ capability, state: 'keys_running' }, view.keys.keysRunning);
        this.set({ capability, state: 'parked' }, view.keys.parked);
        this.set({ capability, state: 'keys_parked' }, view.keys.keysParked);
      }
    },
  });

  new Gauge({
    name: 'agentq_tasks_awaiting_approval',
    help: 'Approval tasks waiting for a person to approve or reject them (all shards)',
    registers: [registry],
    async collect() {
      this.set(await countAwaitingApprovals(coordinator));
    },
  });

  const agents = new Gauge({
    name: 'agentq_agents_live',
    help: 'Agents whose heartbeat is recent',
    registers: [registry],
  });
  new Gauge({
    name: 'agentq_breaker_state',
    help: '1 for the current circuit-breaker state of each agent and capability',
    labelNames: ['agent', 'capability', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const live = await coordinator.getAllAgents();
      agents.set(live.length);
      for (const agent of live) {
        for (const capability of agent.capabilities) {
          const current = agent.breakers[capability] ?? 'closed';
          for (const state of BREAKER_STATES) {
            this.set({ agent: agent.id, capability, state }, state === current ? 1 : 0);
          }
        }
      }
    },
  });

  // One series per unfinished goal with a budget (or paused), at most 100: bounded cardinality.
  // The three gauges of one scrape share one read.
  let views: { at: number; read: ReturnType<typeof openGoalBudgets> } | null = null;
  const budgetViews = () => {
    if (!views || Date.now() - views.at > 500) {
      views = { at: Date.now(), read: openGoalBudgets(store, coordinator, MAX_BUDGET_GOALS) };
      views.read.catch(() => (views = null));
    }
    return views.read;
  };
  new Gauge({
    name: 'agentq_goal_budget',
    help: 'Budget of unfinished goals that have one, by dimension (tokens, costUsd, wallMs)',
    labelNames: ['goal', 'dimension'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const view of await budgetViews()) {
        for (const d of BUDGET_DIMENSIONS) {
          const limit = view.budget?.[d];
          if (limit !== undefined) this.set({ goal: view.goalId, dimension: d }, limit);
        }
      }
    },
  });
  new Gauge({
    name: 'agentq_goal_usage',
    help: 'Use so far of unfinished goals with a budget (or paused), by dimension',
    labelNames: ['goal', 'dimension'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const view of await budgetViews()) {
        for (const d of BUDGET_DIMENSIONS)
          this.set({ goal: view.goalId, dimension: d }, view.usage[d]);
      }
    },
  });
  new Gauge({
    name: 'agentq_goal_paused',
    help: '1 while a goal with a budget (or paused) is PAUSED, else 0',
    labelNames: ['goal'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const view of await budgetViews()) {
        this.set({ goal: view.goalId }, view.state === 'PAUSED' ? 1 : 0);
      }
    },
  });

  const runSeconds = new Histogram({
    name: 'agentq_task_run_seconds',
    help: 'Run time of finished tasks (handler start to end of the last attempt)',
    labelNames: ['type', 'state'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  });

  for (const metric of options.extra ?? []) registry.registerMetric(metric);

  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  return {
    registry,
    router,
    observeFinished(type, state, durationMs) {
      runSeconds.observe({ type, state }, durationMs / 1000);
    },
  };
}
