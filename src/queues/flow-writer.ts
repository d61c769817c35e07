/**
 * Writes a compiled goal to Redis in one MULTI: every job of its flow tree, added with BullMQ's
 * own scripts through its backend (what `FlowProducer.add` does, minus a span and a queue object
 * per job), then each link — a shared task's job key in a further dependent's pending children —
 * and the shared tasks in their shard's pending-links set (see links.ts). All of it lives under
 * the shard's hash tag, so the transaction is one slot on a Redis Cluster too: a goal is either
 * all there or not at all.
 *
 * A dependent that waits only through links (no tree child) is added in waiting-children all the
 * same; BullMQ's FlowProducer would make it waiting, which is why the goal is not written by it.
 */
import type { FlowJob, JobsOptions, RedisQueueBackend } from 'bullmq';
import { traceGoal } from '../tracing-goal-flow';
import {
  addFlowJob,
  dependenciesKey,
  flowBackend,
  releaseParentIfNoPendingDependencies,
  type ParentRef,
} from './bullmq-internals';
import { pendingLinkMember, pendingLinksKey, taskJobKey } from './links';
import type { RedisCoordinator } from './redis-coordinator';

/** A shared task and one of its further dependents (not its BullMQ parent). */
export interface GoalLink {
  source: { type: string; taskId: string };
  dependent: { type: string; taskId: string };
}

export interface CompiledGoal {
  goalId: string;
  title: string;
  shard: number;
  /** The root job, every task job under its BullMQ parent. */
  flow: FlowJob;
  links: GoalLink[];
}

/** Members per ZADD/SADD: large enough to be few commands, small enough to keep replies small. */
const CHUNK = 1000;

/** The part of an ioredis MULTI this writes through directly (the jobs go through BullMQ). */
interface FlowTransaction {
  sadd(key: string, ...members: string[]): unknown;
  zadd(key: string, ...scoresAndMembers: Array<string | number>): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

interface Pending {
  node: FlowJob;
  parent?: ParentRef;
}

async function queueJobs(
  coordinator: RedisCoordinator,
  backend: RedisQueueBackend,
  multi: unknown,
  goal: CompiledGoal,
  metadata: string | undefined,
): Promise<{ count: number; parents: ParentRef[] }> {
  const held = new Set(goal.links.map((l) => l.dependent.taskId));
  const stack: Pending[] = [{ node: goal.flow }];
  const parents: ParentRef[] = [];
  let count = 0;
  while (stack.length > 0) {
    const { node, parent } = stack.pop()!;
    const queue = coordinator.queue(node.queueName, goal.shard);
    const id = node.opts!.jobId!;
    const opts: JobsOptions = {
      ...node.opts,
      ...(parent ? { parent: { id: parent.id, queue: parent.queueKey } } : {}),
      ...(metadata ? { telemetry: { metadata } } : {}),
    };
    const children = node.children ?? [];
    // A dependent held by links alone waits in waiting-children like a parent of real children.
    const waits = children.length > 0 || held.has(id);
    await addFlowJob(backend, multi, {
      queue,
      name: node.name,
      data: node.data,
      opts,
      jobId: id,
      ...(parent ? { parentKey: parent.key } : {}),
      waitsForChildren: waits,
    });
    count++;
    const self = { id, key: queue.toKey(id), queueKey: queue.qualifiedName };
    if (waits) parents.push(self);
    // Pushed last to first so siblings are added in plan order.
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, parent: self });
  }
  return { count, parents };
}

function queueLinks(
  coordinator: RedisCoordinator,
  multi: FlowTransaction,
  goal: CompiledGoal,
): void {
  const bySet = new Map<string, string[]>();
  const sources = new Set<string>();
  for (const { source, dependent } of goal.links) {
    const set = dependenciesKey(
      taskJobKey(coordinator, goal.shard, dependent.type, dependent.taskId),
    );
    let members = bySet.get(set);
    if (!members) bySet.set(set, (members = []));
    members.push(taskJobKey(coordinator, goal.shard, source.type, source.taskId));
    sources.add(pendingLinkMember(source.type, source.taskId));
  }
  for (const [set, members] of bySet) multi.sadd(set, ...members);
  const now = Date.now();
  const all = [...sources];
  for (let i = 0; i < all.length; i += CHUNK) {
    const args = all.slice(i, i + CHUNK).flatMap((m) => [now, m]);
    multi.zadd(pendingLinksKey(coordinator, goal.shard), ...args);
  }
}

/**
 * Writes the goal's jobs and links atomically; throws the first error Redis gave.
 * `existingJobs`: some of the goal's jobs may be in Redis already (`agentq recover`), so every
 * parent is checked at the end, as BullMQ's own addFlow does, in case all it waits for has ended.
 * A new goal's jobs are all new, and the check (a script call per parent) is skipped.
 */
export async function writeGoalFlow(
  coordinator: RedisCoordinator,
  goal: CompiledGoal,
  options: { existingJobs?: boolean } = {},
): Promise<void> {
  const backend = flowBackend(coordinator.flowProducer(goal.shard));
  await backend.waitUntilReady();
  const client = await backend.client;
  await traceGoal(coordinator.telemetry, { id: goal.goalId, title: goal.title }, async (meta) => {
    const multi = (client as unknown as { multi(): FlowTransaction }).multi();
    const { count: jobs, parents } = await queueJobs(coordinator, backend, multi, goal, meta);
    queueLinks(coordinator, multi, goal);
    if (options.existingJobs) {
      const now = Date.now();
      for (const p of parents) void releaseParentIfNoPendingDependencies(backend, multi, p, now);
    }
    const results = await multi.exec();
    if (!results)
      throw new Error(`the flow of goal ${goal.goalId} was not written (MULTI aborted)`);
    results.forEach(([error, value], i) => {
      if (error) throw error;
      if (i < jobs && typeof value === 'number' && value < 0) {
        throw new Error(`BullMQ refused a job of goal ${goal.goalId} (addJob code ${value})`);
      }
    });
  });
}
