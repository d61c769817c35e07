/**
 * What the agent and its sandbox children tell each other beyond BullMQ's own child protocol.
 * Kept apart so the child entry does not import the parent side (and BullMQ's Worker with it).
 */
import type { TaskJobData } from '../queues/task-job';

/** Environment variables the agent sets on its sandbox children (a private channel). */
export const SANDBOX_ENV = {
  handlers: 'AGENTQ_SANDBOX_HANDLERS',
  agentId: 'AGENTQ_SANDBOX_AGENT_ID',
} as const;

/**
 * The first `updateProgress` a child sends: the parent keeps the pid (to kill a hung child) and
 * never forwards it to Redis.
 */
export interface SandboxHello {
  phase: 'sandbox';
  pid: number;
}

export function isSandboxHello(value: unknown): value is SandboxHello {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { phase?: unknown }).phase === 'sandbox' &&
    typeof (value as { pid?: unknown }).pid === 'number'
  );
}

/** The job data a child sees: the task's, plus the directory the parent prepared for it. */
export type SandboxJobData = TaskJobData & { sandboxWorkdir: string };

/** A `ctx.usage` report of a child: the parent rolls it up and never forwards it to Redis. */
export interface SandboxUsage {
  phase: 'usage';
  usage: { tokens: number; costUsd: number };
}

export function sandboxUsage(usage: { tokens: number; costUsd: number }): SandboxUsage {
  return { phase: 'usage', usage };
}

export function isSandboxUsage(value: unknown): value is SandboxUsage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { phase?: unknown }).phase === 'usage' &&
    typeof (value as { usage?: unknown }).usage === 'object'
  );
}
