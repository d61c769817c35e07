/**
 * The data of agentq's BullMQ jobs: task jobs (one per task, in the capability's queue), gate
 * jobs (made when a shared task fails for good, to fail a further dependent) and goal root jobs. The compiler
 * writes them, agents and the supervisor read them; ids are deterministic so resubmits dedupe.
 */
import type { ApprovalSpec, Json } from '../entities/task-model';
import type { CancelMark } from './protocol';

export interface TaskJobData {
  v: 1;
  kind: 'task';
  taskId: string;
  goalId: string;
  key: string;
  title: string;
  description: string;
  type: string;
  priority: number;
  data: { [key: string]: Json };
  dependsOn: string[];
  timeoutMs: number;
  optional: boolean;
  /** Per-key concurrency (`limits set --per-key`): tasks of one key share its slots. */
  concurrencyKey?: string;
  /** Explicit retries (dead-letter redrives) so far. */
  epoch: number;
  /**
   * This task's further dependents — every dependent but its BullMQ parent — as `[key, type]`.
   * Each holds this task's job key among its pending children (a link, see links.ts) until the
   * agent that ends this task releases it. Absent when there are none.
   */
  links?: Array<[key: string, type: string]>;
  /** The shard (hash tag) the goal's flow lives under. */
  shard: number;
  /**
   * Results of dependencies that finished before the flow was (re)built — `agentq recover` puts
   * here what SQL records as DONE instead of running it again.
   */
  resolved?: { [key: string]: Json };
  /** Set by a cancellation that reached the job before an agent ran it. */
  cancelled?: CancelMark;
  /** An approval task (queue `_approvals`): decided by a person, not run (see approvals.ts). */
  approval?: ApprovalSpec;
  /** The task whose handler spawned this one (ctx.spawn); absent for plan and extension tasks. */
  spawnedBy?: string;
}

export interface GateJobData {
  v: 1;
  kind: 'gate';
  goalId: string;
  /** The shared task that failed. */
  sourceTaskId: string;
  sourceKey: string;
  sourceType: string;
  sourceOptional: boolean;
  /** The dependent task the gate is a child of. */
  dependentTaskId: string;
}

export interface GoalJobData {
  v: 1;
  kind: 'goal';
  goalId: string;
  title: string;
}

export type AgentqJobData = TaskJobData | GateJobData | GoalJobData;

/** `g-<16 hex>`: from the idempotency key when there is one, random otherwise. */
export type GoalId = string;

export function taskJobId(goalId: string, key: string): string {
  return `${goalId}.${key}`;
}

export function gateJobId(sourceTaskId: string, dependentKey: string): string {
  return `${sourceTaskId}~${dependentKey}`;
}
