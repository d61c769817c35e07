/**
 * The state mirror: BullMQ's events streams → SQL, with exactly one consumer per deployment.
 * A process runs one candidate wherever a task store and a coordinator meet (shared-mirror.ts):
 * `serve`, `worker` and `demo`, `createAgentSystem`, an InterfaceAgent, an AutonomousAgent given
 * its `taskRegistry`; a one-shot CLI command runs none. The candidate holding the leader lock
 * consumes the streams (mirror-consumer.ts) and runs the pub/sub bridge (bridge.ts). When the
 * holder dies its lock expires and another candidate takes over from the cursor in SQL.
 *
 * ```ts
 * const mirror = startMirror({ store: registry, coordinator: redis });
 * mirror.lagMs(); // { p50, p99 }
 * await mirror.close();
 * ```
 */
import type { TaskStore } from '../entities/task-store';
import type { TaskState } from '../entities/task-state';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import { isGoalOpen } from '../entities/task-model';
import { budgetCopyPending, syncGoalBudgets } from '../queues/goal-budget';
import { sweepFinishedGoals } from '../queues/retention';
import { PubSubBridge } from './bridge';
import { MirrorConsumer, type MirrorCommit, type MirrorStats } from './mirror-consumer';
import { LeaderLock, type LeaderLockOptions } from './mirror-lock';
import { mirrorIsLeader, RecentSamples } from './mirror-metrics';

export type { MirrorCommit, MirrorStats } from './mirror-consumer';

export interface MirrorOptions {
  store: TaskStore;
  coordinator: RedisCoordinator;
  /** Hash tags to read; must match the coordinator's. @defaultValue coordinator.shards */
  shards?: number;
  /** Where the mirror says what it did (takeovers, reconciles, errors). @defaultValue none */
  onLog?: (line: string) => void;
  /** Lock expiry and renewal. @defaultValue { ttlMs: 3000, intervalMs: 1000 } */
  lock?: LeaderLockOptions;
  /** Entries read per stream per XREAD: the batch size. @defaultValue 500 */
  batchSize?: number;
  /**
   * Most changes one transaction of a reconcile (a catch-up after trimming) commits; a bigger
   * catch-up commits in several, yielding in between. @defaultValue 2000
   */
  chunkSize?: number;
  /** How long one XREAD blocks when the streams are idle. @defaultValue 100 */
  blockMs?: number;
  /** Run the pub/sub bridge in the leader. @defaultValue true */
  bridge?: boolean;
  /** The bridge's poll for transitions of other writers. @defaultValue 100 */
  bridgePollMs?: number;
  /** Called after each committed batch (benchmarks measure delivery from here). */
  onCommit?: (commit: MirrorCommit) => void;
}

export interface MirrorHandle {
  /** True while this candidate holds the lock and consumes the streams. */
  readonly isLeader: boolean;
  /** Recent lag (commit time − the stream entry's timestamp), in ms. */
  lagMs(): { p50: number; p99: number };
  readonly stats: MirrorStats;
  /** Messages the bridge published while this candidate led. */
  readonly published: number;
  /** Stops consuming, releases the lock (a waiting candidate takes over at once). */
  close(): Promise<void>;
}

/** States a task can still leave: a goal with one of them is not fully recorded yet. */
const OPEN_STATES: TaskState[] = ['BACKLOG', 'PENDING', 'ASSIGNED', 'ACTIVE'];

export function startMirror(options: MirrorOptions): MirrorHandle {
  const candidate = new MirrorCandidate(options);
  candidate.start();
  return candidate;
}

class MirrorCandidate implements MirrorHandle {
  readonly stats: MirrorStats = {
    batches: 0,
    entries: 0,
    recorded: 0,
    rejected: 0,
    stale: 0,
    reconciles: 0,
    leaderships: 0,
  };
  private readonly lags = new RecentSamples(10_000);
  private readonly lock: LeaderLock;
  private readonly log: (line: string) => void;
  private consumers: MirrorConsumer[] | null = null;
  private bridge: PubSubBridge | null = null;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private sweeping: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  private publishedBefore = 0;
  private closed = false;

  constructor(private readonly options: MirrorOptions) {
    if (options.shards !== undefined && options.shards !== options.coordinator.shards) {
      throw new RangeError(
        `startMirror: shards ${options.shards} ≠ the coordinator's ${options.coordinator.shards}`,
      );
    }
    this.log = options.onLog ?? (() => undefined);
    this.lock = new LeaderLock(
      options.coordinator.client,
      options.coordinator.key('mirror', 'lock'),
      options.lock,
    );
  }

  get isLeader(): boolean {
    return this.consumers !== null;
  }

  get published(): number {
    return this.publishedBefore + (this.bridge?.published ?? 0);
  }

  lagMs(): { p50: number; p99: number } {
    return { p50: this.lags.percentile(50), p99: this.lags.percentile(99) };
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.lock.intervalMs);
    this.tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await this.sweeping;
    await this.syncing;
    if (this.consumers) {
      await this.stepDown();
      await this.lock.release().catch(() => undefined);
    }
  }

  private tick(): void {
    if (this.ticking || this.closed) return;
    this.ticking = this.renewOrAcquire()
      .catch((error: Error) => this.log(`mirror: ${error.message}`))
      .finally(() => (this.ticking = null));
    if (this.consumers && !this.sweeping) this.sweep();
    if (this.consumers && !this.syncing) this.syncBudgets();
  }

  /** Goal budgets: Redis's goal events and use copied to SQL (the audit log), each tick. */
  private syncBudgets(): void {
    const { store, coordinator } = this.options;
    this.syncing = syncGoalBudgets(store, coordinator)
      .catch((error: Error) => this.log(`mirror: budgets: ${error.message}`))
      .then(() => undefined)
      .finally(() => (this.syncing = null));
  }

  /**
   * Retention: the leader removes finished goals' jobs once their time is up AND SQL has their
   * end — never before the mirror has read what it must record. Beside the lock renewal, not in
   * its way.
   */
  private sweep(): void {
    const { store, coordinator } = this.options;
    const recorded = async (goalId: string): Promise<boolean> => {
      const goal = await store.getGoal(goalId);
      if (!goal || isGoalOpen(goal.state)) return false;
      // Its budget record goes with its jobs: only once SQL has its last copy.
      if (await budgetCopyPending(coordinator, goalId)) return false;
      const open = await store.findTasks({ goalId, state: OPEN_STATES, limit: 1 });
      return open.length === 0;
    };
    this.sweeping = sweepFinishedGoals(coordinator, recorded)
      .catch((error: Error) => this.log(`mirror: retention: ${error.message}`))
      .then(() => undefined)
      .finally(() => (this.sweeping = null));
  }

  private async renewOrAcquire(): Promise<void> {
    if (this.consumers) {
      const reclaims = this.lock.reclaims;
      if (!(await this.lock.renew())) {
        this.log('mirror: lost the lock; stepping down');
        await this.stepDown();
      } else if (this.lock.reclaims > reclaims) {
        this.log('mirror: the lock lapsed while this process was busy; nobody took it: resumed');
      }
    } else if (await this.lock.tryAcquire()) {
      await this.lead();
    }
  }

  private async lead(): Promise<void> {
    const { store, coordinator } = this.options;
    this.stats.leaderships++;
    mirrorIsLeader.set(1);
    this.log(`mirror: leading (lock ${this.lock.token})`);
    if (this.options.bridge !== false) {
      this.bridge = new PubSubBridge({
        store,
        coordinator,
        lock: { key: coordinator.key('mirror', 'lock'), token: this.lock.token },
        pollMs: this.options.bridgePollMs,
        onLog: this.log,
      });
      await this.bridge.start();
    }
    const shards = Array.from({ length: coordinator.shards }, (_, shard) => shard);
    const consumers = shards.map(
      (shard) =>
        new MirrorConsumer({
          shard,
          store,
          coordinator,
          lock: this.lock,
          bridge: this.bridge,
          batchSize: this.options.batchSize ?? 500,
          chunkSize: this.options.chunkSize ?? 2000,
          blockMs: this.options.blockMs ?? 100,
          stats: this.stats,
          lags: this.lags,
          log: this.log,
          onCommit: this.options.onCommit,
        }),
    );
    this.consumers = consumers;
    this.running = Promise.all(consumers.map((c) => c.run()))
      .then(() => undefined)
      .catch(async (error: Error) => {
        if (this.consumers !== consumers) return;
        this.log(`mirror: ${error.message}; stepping down`);
        await this.stepDown(false);
        await this.lock.release().catch(() => undefined);
      });
  }

  /** `awaitRun` is false when called from the run's own failure handler. */
  private async stepDown(awaitRun = true): Promise<void> {
    const consumers = this.consumers ?? [];
    const bridge = this.bridge;
    this.consumers = null;
    this.bridge = null;
    mirrorIsLeader.set(0);
    await Promise.all(consumers.map((c) => c.stop()));
    if (awaitRun) await this.running?.catch(() => undefined);
    if (bridge) {
      await bridge.close();
      this.publishedBefore += bridge.published;
    }
  }
}
