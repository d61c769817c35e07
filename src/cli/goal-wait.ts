/**
 * `--wait` of `goal` and `plan`: follows a goal until SQL records its end and every one of its
 * tasks final, and returns the goal and tasks as SQL holds them — what `goal show` then prints.
 * It waits on events, not polls: the mirror's pub/sub channels (`goals:complete` wakes it; task
 * events move the progress bar and, once the goal ended, wake it for the tasks still ending, as
 * a FAILED goal's cancelled tasks end after it). A tick every 2 s says why it waits
 * (wait-reasons.ts) and covers what a channel cannot: a message lost while reconnecting (the store
 * is read again every 10 s) and a deployment with no mirror at all, where SQL never follows: then
 * the end is read from the goal's root job in Redis (the execution record) and the no-mirror
 * warning says SQL may be behind.
 */
import { Job } from 'bullmq';
import type { GoalRecord, GoalState, TaskRecord } from '../entities/task-model';
import { isTerminal, type TaskState } from '../entities/task-state';
import { GOALS_COMPLETE_CHANNEL } from '../mirror/channel-payload';
import { mirrorIsRunning } from '../mirror/mirror-lock';
import type { RedisConnection } from '../queues/connection';
import { GOALS_QUEUE } from '../queues/names';
import { isCancelledReason, shardOf } from '../queues/protocol';
import { NO_MIRROR_WARNING, type CliContext } from './context';
import { endConnection, FOLLOWED_CHANNELS } from './event-follower';
import { onInterrupt, type Interrupt } from './interrupt';
import type { Progress } from './output';
import { waitingReason } from './wait-reasons';

export type GoalEnd = Exclude<GoalState, 'ACTIVE'>;

/** How a wait ended: the goal's end (null when interrupted) and what SQL holds. */
export interface GoalOutcome {
  end: GoalEnd | null;
  goal: GoalRecord | null;
  tasks: TaskRecord[];
}

/** How often the reason for waiting is looked at again (agents, breakers, paused queues). */
const TICK_MS = 2000;
/** Every this many ticks the store is read whatever the channels said (a lost message). */
const RECHECK_TICKS = 5;
/**
 * After SQL records the goal's end, how long its tasks still open may take to end (a FAILED
 * goal's running tasks end when their agents see the cancel) before the wait reports them as
 * they are.
 */
const SETTLE_MS = 30_000;

export async function waitForGoal(
  ctx: CliContext,
  goalId: string,
  taskCount: number,
): Promise<GoalOutcome> {
  const progress = ctx.out.progress(taskCount, goalId);
  const interrupt = onInterrupt();
  // Retries through a Redis blip like `events --follow`; resubscribes by itself.
  const subscriber = ctx.coordinator.duplicate('worker');
  const watch = new GoalWatch(ctx, goalId, taskCount, progress, subscriber);
  try {
    return await watch.run(interrupt);
  } finally {
    progress.stop();
    interrupt.dispose();
    await endConnection(subscriber);
  }
}

/** Exit code of `--wait`: 0 when the goal is DONE, 1 otherwise (FAILED, CANCELLED, interrupted). */
export function exitCodeOf(end: GoalEnd | null): number {
  return end === 'DONE' ? 0 : 1;
}

class GoalWatch {
  private readonly states = new Map<string, TaskState>();
  private readonly goalChannel: string;
  /** SQL recorded the goal's end: task events now wake a read of the store. */
  private ended = false;
  private storeDue = true;
  private tickDue = false;
  private ticks = 0;
  private settleBy = Number.POSITIVE_INFINITY;
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly ctx: CliContext,
    private readonly goalId: string,
    private readonly taskCount: number,
    private readonly progress: Progress,
    private readonly subscriber: RedisConnection,
  ) {
    this.goalChannel = ctx.coordinator.channel(GOALS_COMPLETE_CHANNEL);
  }

  async run(interrupt: Interrupt): Promise<GoalOutcome> {
    const timer = setInterval(() => {
      this.tickDue = true;
      this.wake();
    }, TICK_MS);
    this.subscriber.on('message', this.onMessage);
    // After a reconnect (resubscribed), messages may have passed: read the store.
    this.subscriber.on('ready', this.onReady);
    try {
      await this.subscriber.subscribe(
        ...FOLLOWED_CHANNELS.map((c) => this.ctx.coordinator.channel(c)),
      );
      // Subscribed first, then the first read: an end recorded in between is not missed.
      this.storeDue = true;
      while (!interrupt.stopped) {
        const outcome = await this.turn();
        if (outcome) return outcome;
        await this.sleep(interrupt);
      }
      return { end: null, ...(await this.readAll()) };
    } finally {
      clearInterval(timer);
      this.subscriber.off('message', this.onMessage);
      this.subscriber.off('ready', this.onReady);
    }
  }

  private readonly onReady = () => {
    this.storeDue = true;
    this.wake();
  };

  private readonly onMessage = (channel: string, message: string) => {
    let payload: { goalId?: unknown; taskId?: unknown; state?: unknown };
    try {
      payload = JSON.parse(message) as typeof payload;
    } catch {
      return; // Not ours: the channel contract is JSON.
    }
    if (payload?.goalId !== this.goalId) return;
    if (channel === this.goalChannel) {
      this.storeDue = true;
    } else if (typeof payload.taskId === 'string' && typeof payload.state === 'string') {
      this.states.set(payload.taskId, payload.state as TaskState);
      this.showProgress();
      if (this.ended) this.storeDue = true;
    }
    this.wake();
  };

  private wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    wakeUp?.();
  }

  private sleep(interrupt: Interrupt): Promise<void> {
    if (this.storeDue || this.tickDue) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      void interrupt.done.then(resolve);
    });
  }

  private async turn(): Promise<GoalOutcome | null> {
    const tick = this.tickDue;
    this.tickDue = false;
    if (tick) this.ticks += 1;
    if (this.storeDue || (tick && (this.ended || this.ticks % RECHECK_TICKS === 0))) {
      this.storeDue = false;
      const outcome = await this.fromStore();
      if (outcome) return outcome;
    }
    if (tick && !this.ended) {
      const outcome = await this.withoutMirror();
      if (outcome) return outcome;
      this.progress.note(await waitingReason(this.ctx, this.goalId));
    }
    return null;
  }

  /** The outcome once SQL has the goal's end and every task final (or SETTLE_MS passed). */
  private async fromStore(): Promise<GoalOutcome | null> {
    const { registry } = this.ctx;
    const goal = await registry.getGoal(this.goalId);
    if (!goal || goal.state === 'ACTIVE') {
      const rows = await registry.findTaskStates({ goalId: this.goalId, limit: goalSize(goal) });
      for (const row of rows) this.states.set(row.id, row.state);
      this.showProgress();
      return null;
    }
    this.ended = true;
    const tasks = await registry.findTasks({ goalId: this.goalId, limit: goalSize(goal) });
    for (const task of tasks) this.states.set(task.id, task.state);
    this.showProgress();
    const settled = tasks.every((t) => isTerminal(t.state));
    if (!settled && this.settleBy === Number.POSITIVE_INFINITY) {
      this.settleBy = Date.now() + SETTLE_MS;
    }
    return settled || Date.now() >= this.settleBy ? { end: goal.state, goal, tasks } : null;
  }

  /** With no mirror anywhere SQL never follows: the end comes from Redis, with the warning. */
  private async withoutMirror(): Promise<GoalOutcome | null> {
    if (await mirrorIsRunning(this.ctx.coordinator)) return null;
    const end = await rootEnd(this.ctx, this.goalId);
    if (!end) return null;
    this.ctx.out.warn(NO_MIRROR_WARNING);
    return { end, ...(await this.readAll()) };
  }

  private async readAll(): Promise<Omit<GoalOutcome, 'end'>> {
    const goal = await this.ctx.registry.getGoal(this.goalId);
    const tasks = await this.ctx.registry.findTasks({ goalId: this.goalId, limit: goalSize(goal) });
    return { goal, tasks };
  }

  private showProgress(): void {
    let done = 0;
    for (const state of this.states.values()) if (isTerminal(state)) done += 1;
    this.progress.update(done, Math.max(this.states.size, this.taskCount));
  }
}

/** Every task of the goal in one read (its count grows when its handlers spawn tasks). */
function goalSize(goal: GoalRecord | null): number {
  return Math.max(goal?.taskCount ?? 0, 1);
}

/** The end Redis records on the goal's root job, or null while it runs. */
async function rootEnd(ctx: CliContext, goalId: string): Promise<GoalEnd | null> {
  const queue = ctx.coordinator.queue(GOALS_QUEUE, shardOf(goalId, ctx.coordinator.shards));
  const job = await Job.fromId(queue, goalId);
  if (!job) return null;
  const state = await job.getState();
  if (state === 'completed') return 'DONE';
  if (state === 'failed') return isCancelledReason(job.failedReason) ? 'CANCELLED' : 'FAILED';
  return null;
}
