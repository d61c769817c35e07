/**
 * The data of agentq's BullMQ jobs: task jobs (one per task, in the capability's queue), gate
 * jobs (a shared task's result handed to a further dependent) and goal root jobs. The compiler
 * writes them, agents and the supervisor read them; ids are deterministic so resubmits dedupe.
 */
import type { Json } from '../entities/task-model';
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
  /** Explicit retries (dead-letter redrives) so far. */
  epoch: number;
  /** Ids of the gate jobs (in `_gates`) to release when this task ends. */
  gates: string[];
  /**
   * Set by compilers whose dependents read a gated result from the source job itself
   * (`gatedSources`): when this task COMPLETES its gates are removed, not run (see gates.ts).
   * Absent on jobs of older compilers: their gates always run.
   */
  gateRelease?: 'remove';
  /**
   * Dependencies that reach this task through a gate, by key → their capability (queue). The
   * agent reads the results of those that completed straight from their jobs before the attempt.
   */
  gatedSources?: { [key: string]: string };
  /** The shard (hash tag) the goal's flow lives under. */
  shard: number;
  /**
   * Results of dependencies that finished before the flow was (re)built — `agentq recover` puts
   * here what SQL records as DONE instead of running it again.
   */
  resolved?: { [key: string]: Json };
  /** Set by a cancellation that reached the job before an agent ran it. */
  cancelled?: CancelMark;
}

export interface GateJobData {
  v: 1;
  kind: 'gate';
  goalId: string;
  /** The shared task whose result the gate carries. */
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
