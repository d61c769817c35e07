/**
 * One task with its goal and, when it waits, why it is not being claimed: what `agentq task show`
 * and InterfaceAgent's `getTaskSummary`/`formatTaskSummary` answer. Apart from InterfaceAgent so
 * that `task show` loads neither the supervisor nor the mirror.
 */
import type { TaskRecord } from '../entities/task-model';
import type { TaskRegistry } from '../entities/task-registry';
import { NotFoundError } from '../errors';
import { approvalStateOf, type ApprovalState } from '../queues/approvals';
import { loadGoalRecord } from '../queues/compiler';
import { APPROVALS_QUEUE } from '../queues/names';
import { taskJobId } from '../queues/task-job';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import {
  dependencyStatesOf,
  describeStuckReason,
  diagnoseTask,
  jobHashStateOf,
  type StuckReason,
} from './interface-diagnosis';

export interface TaskSummary {
  task: TaskRecord;
  goal: { id: string; title: string; state: string } | null;
  /** Why a waiting task is not being claimed, when it is stuck. */
  stuck: StuckReason | null;
  /** An approval task's approval: what it asks, and since when it awaits a decision. */
  approval?: ApprovalState;
  /**
   * A spawning task's spawned tasks (ctx.spawn, or a repair's patch) and where each stands: it
   * ends only after all of them, so while some are open that is what it waits for.
   */
  spawned?: Array<{ key: string; state: string }>;
}

/** At most this many spawned tasks are looked up for one summary. */
const SPAWNED_SHOWN = 200;

/** The tasks `task` spawned, from its goal's Redis record, with their SQL states. */
async function spawnedOf(
  registry: TaskRegistry,
  redis: RedisCoordinator,
  task: TaskRecord,
): Promise<Array<{ key: string; state: string }>> {
  const record = await loadGoalRecord(redis, task.goalId);
  const keys = (record?.tasks ?? [])
    .filter((entry) => entry[4] === task.key)
    .map(([key]) => key)
    .slice(0, SPAWNED_SHOWN);
  const rows = await Promise.all(keys.map((k) => registry.getTask(taskJobId(task.goalId, k))));
  return keys.map((key, i) => ({ key, state: rows[i]?.state ?? 'missing' }));
}

/** Unknown id: NotFoundError. */
export async function getTaskSummary(
  registry: TaskRegistry,
  redis: RedisCoordinator,
  taskId: string,
): Promise<TaskSummary> {
  const task = await registry.getTask(taskId);
  if (!task) throw new NotFoundError('task', taskId);
  const goal = await registry.getGoal(task.goalId);
  let stuck: StuckReason | null = null;
  if (task.state === 'PENDING' || task.state === 'BACKLOG') {
    const [agents, status, job] = await Promise.all([
      redis.getAllAgents(),
      dependencyStatesOf(registry, task),
      jobHashStateOf(redis, task),
    ]);
    const queue = redis.queue(task.type);
    const paused = (await queue.isPaused()) ? new Set([task.type]) : new Set<string>();
    stuck = diagnoseTask(task, { agents, pausedQueues: paused, dependencyStates: status, job });
  }
  const approval = task.type === APPROVALS_QUEUE ? await approvalStateOf(redis, task.id) : null;
  const spawned = await spawnedOf(registry, redis, task);
  return {
    task,
    goal: goal ? { id: goal.id, title: goal.title, state: goal.state } : null,
    stuck,
    ...(approval ? { approval } : {}),
    ...(spawned.length > 0 ? { spawned } : {}),
  };
}

const ENDED = ['DONE', 'FAILED', 'CANCELLED'];

export function formatTaskSummary(summary: TaskSummary): string {
  const t = summary.task;
  const rows: Array<[string, string]> = [
    ['id', t.id],
    ['title', t.title],
    ['type', t.type],
    ['state', t.state],
    ['priority', String(t.priority)],
    ['attempt', `${t.attempt} of ${t.attempts}`],
    [
      'goal',
      summary.goal ? `${summary.goal.id} ${summary.goal.title} (${summary.goal.state})` : t.goalId,
    ],
    ['depends on', t.dependsOn.join(', ') || '-'],
    ['agent', t.agentId ?? '-'],
    ['updated', t.updatedAt.toISOString()],
  ];
  if (t.description) rows.splice(2, 0, ['description', t.description]);
  if (t.durationMs !== null) rows.push(['duration', `${t.durationMs} ms`]);
  if (t.result !== null) rows.push(['result', JSON.stringify(t.result)]);
  if (t.error) rows.push(['error', t.error.message]);
  if (summary.stuck) rows.push(['not claimed', describeStuckReason(summary.stuck)]);
  if (t.spawnedBy) rows.push(['spawned by', t.spawnedBy]);
  if (summary.spawned) {
    const open = summary.spawned.filter((x) => !ENDED.includes(x.state));
    rows.push(['spawned', summary.spawned.map((x) => `${x.key} (${x.state})`).join(', ')]);
    if (open.length > 0 && !ENDED.includes(t.state)) {
      rows.push([
        'waiting for',
        `${open.length} spawned task(s) to end: ${open.map((x) => x.key).join(', ')}`,
      ]);
    }
  }
  const approval = summary.approval;
  if (approval?.prompt) rows.push(['approval', approval.prompt]);
  if (approval?.awaitingSince) {
    const timeout = approval.deadline
      ? `; ${approval.onTimeout}s at ${approval.deadline.toISOString()} unless decided`
      : '';
    rows.push(['awaiting approval', `since ${approval.awaitingSince.toISOString()}${timeout}`]);
  }
  if (approval?.decision) {
    const d = approval.decision;
    rows.push([
      'decided',
      `${d.approved ? 'approved' : 'rejected'} by ${d.by} at ${new Date(d.at).toISOString()}`,
    ]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
