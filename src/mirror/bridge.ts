/**
 * The pub/sub bridge: every recorded transition is published on `tasks:<event>` in `seq` order,
 * each exactly once. Transitions come from the mirror's batches (handed over right after their
 * commit: the fast path) and from other writers (createGoal's `new` events, cancels by the
 * interface), which the bridge finds by polling the audit log. The last published seq lives in
 * Redis and moves in the same script as the PUBLISHes, guarded by the mirror lock: a crash or a
 * takeover neither repeats nor skips a message. A copy kept in SQL (the `bridge` cursor, written
 * after each publish) says where to go on when Redis lost its keys (FLUSHALL, a restore), so the
 * transitions recorded meanwhile are published rather than skipped.
 */
import { isGoalEventName, type GoalEnd, type TaskEventRecord } from '../entities/task-model';
import type { TaskStore } from '../entities/task-store';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import {
  channelMessage,
  goalPayload,
  GOALS_COMPLETE_CHANNEL,
  taskKeyOf,
  type TaskIdentity,
} from './channel-payload';

/** KEYS: lock, seq. ARGV: token, expected seq, new seq, then channel/message pairs. */
const PUBLISH_IN_ORDER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if tonumber(redis.call('GET', KEYS[2]) or '-1') ~= tonumber(ARGV[2]) then return -2 end
for i = 4, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[2], ARGV[3])
return 1`;

const CHUNK = 500;
/** The SQL cursor holding the last seq this deployment published. */
export const BRIDGE_CURSOR = 'bridge';
const MAX_IDENTITIES = 500_000;

export interface BridgeOptions {
  store: TaskStore;
  coordinator: RedisCoordinator;
  /** The mirror lock the bridge publishes under. */
  lock: { key: string; token: string };
  /** How often the bridge looks for transitions of other writers. @defaultValue 100 */
  pollMs?: number;
  onLog?: (line: string) => void;
}

export class PubSubBridge {
  private readonly seqKey: string;
  private readonly identities = new Map<string, TaskIdentity>();
  private lastSeq = 0;
  private work: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private stopped = false;
  /** Messages published by this bridge (for stats). */
  published = 0;

  constructor(private readonly options: BridgeOptions) {
    this.seqKey = options.coordinator.key('bridge', 'seq');
  }

  /** Picks up where the last publisher stopped; a first start begins at the current log end. */
  async start(): Promise<void> {
    const client = this.options.coordinator.client;
    const [stored, logEnd, saved] = await Promise.all([
      client.get(this.seqKey),
      this.options.store.lastSeq(),
      this.options.store.getCursor(BRIDGE_CURSOR),
    ]);
    if (stored === null) {
      // Redis has no published seq: a first start (begin at the log's end), or Redis lost its
      // keys, when SQL's copy says where publishing stopped.
      const from = saved === null ? logEnd : Math.min(Number(saved), logEnd);
      if (saved !== null && from < logEnd) {
        this.options.onLog?.(`bridge: Redis lost the published seq; publishing from ${from}`);
      }
      await client.set(this.seqKey, String(from), 'NX');
    } else if (Number(stored) > logEnd) {
      // A new or restored database under an old prefix: publish its events rather than wait for
      // its seq to pass a number from another history.
      this.options.onLog?.(
        `bridge: published seq ${stored} is past the audit log's ${logEnd}; starting from ${logEnd}`,
      );
      await client.set(this.seqKey, String(logEnd));
    }
    this.lastSeq = Number(await client.get(this.seqKey));
    this.timer = setInterval(() => this.poll(), this.options.pollMs ?? 100);
  }

  /** The mirror's committed events, with the task identities it knows (its queue is the type). */
  offer(events: TaskEventRecord[], known?: ReadonlyMap<string, TaskIdentity>): Promise<void> {
    if (known) for (const [id, identity] of known) this.remember(id, identity);
    return this.enqueue(async () => {
      const fresh = events.filter((e) => e.seq > this.lastSeq);
      if (fresh.length > 0 && fresh[0]!.seq === this.lastSeq + 1 && isContiguous(fresh)) {
        // The fast path: no read of the log. Other writers' events wait for the next poll.
        await this.publish(fresh);
      } else if (fresh.length > 0) {
        await this.catchUp();
      }
    });
  }

  /** `goals:complete`; not part of the seq order, published after the goal's task events. */
  publishGoal(goalId: string, state: GoalEnd, at: Date): Promise<void> {
    return this.enqueue(() =>
      this.options.coordinator.publish(GOALS_COMPLETE_CHANNEL, goalPayload(goalId, state, at)),
    );
  }

  /** Waits for queued work; stops polling. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.work;
  }

  private poll(): void {
    if (this.busy || this.stopped) return;
    void this.enqueue(() => this.catchUp());
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = async () => {
      this.busy = true;
      try {
        await task();
      } catch (error) {
        this.options.onLog?.(`bridge: ${(error as Error).message}`);
      } finally {
        this.busy = false;
      }
    };
    this.work = this.work.then(run);
    return this.work;
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const events = await this.options.store.eventsAfter(this.lastSeq, CHUNK);
      if (events.length === 0) return;
      await this.publish(events);
      if (events.length < CHUNK) return;
    }
  }

  private async publish(events: TaskEventRecord[]): Promise<void> {
    const { coordinator, lock } = this.options;
    for (let i = 0; i < events.length; i += CHUNK) {
      const chunk = events.slice(i, i + CHUNK);
      const args: string[] = [lock.token, String(this.lastSeq), String(chunk.at(-1)!.seq)];
      for (const event of chunk) {
        const identity = await this.identityOf(event);
        const { channel, payload } = channelMessage(event, identity);
        args.push(coordinator.channel(channel));
        args.push(JSON.stringify(payload));
      }
      const outcome = Number(
        await coordinator.client.eval(PUBLISH_IN_ORDER, 2, lock.key, this.seqKey, ...args),
      );
      if (outcome === -1) throw new Error('not the mirror leader any more: publishing stopped');
      if (outcome === -2) {
        // Another publisher moved on (a takeover): continue from where it stopped.
        this.lastSeq = Number(await coordinator.client.get(this.seqKey));
        return;
      }
      this.lastSeq = chunk.at(-1)!.seq;
      this.published += chunk.length;
    }
    await this.saveCursor();
  }

  /** SQL's copy of the published seq; a failed write is made good by the next publish. */
  private async saveCursor(): Promise<void> {
    const value = String(this.lastSeq);
    await this.options.store
      .applyChanges([], { name: BRIDGE_CURSOR, value })
      .catch((error: Error) => this.options.onLog?.(`bridge: cursor not saved: ${error.message}`));
  }

  private remember(taskId: string, identity: TaskIdentity): void {
    if (this.identities.size >= MAX_IDENTITIES) this.identities.clear();
    this.identities.set(taskId, identity);
  }

  /** Key and type from the cache, else from the task rows of its goal (one query per goal). */
  private async identityOf(event: TaskEventRecord): Promise<TaskIdentity> {
    if (isGoalEventName(event.event)) return { key: '', type: '' };
    let identity = this.identities.get(event.taskId);
    if (identity) return identity;
    const tasks = await this.options.store.findTasks({ goalId: event.goalId, limit: 1_000_000 });
    for (const task of tasks)
      this.remember(task.id, { key: task.key, type: task.type, spawnedBy: task.spawnedBy });
    identity = this.identities.get(event.taskId) ?? { key: taskKeyOf(event.taskId), type: '' };
    return identity;
  }
}

function isContiguous(events: TaskEventRecord[]): boolean {
  return events.every((e, i) => i === 0 || e.seq === events[i - 1]!.seq + 1);
}
