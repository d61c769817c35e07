/**
 * The Redis side of agentq, as the seed named it: connections, the BullMQ queue of every
 * capability (cached), flow producers, pub/sub channels, the live-agent directory and the list
 * of known capabilities. Every part that talks to Redis gets it from here.
 */
import { FlowProducer, Queue, type Telemetry } from 'bullmq';
import { parseRedisUrl, type AgentqConfig, type RedisConfig } from '../config';
import type { AgentInfo } from '../entities/task-model';
import type { InternalWorkerSettings } from './internal-worker-settings';
import { agentqKey, assertCapability, bullPrefix, INTERNAL_QUEUES } from './names';
import {
  assertIdFree,
  claimAgentId,
  readLiveAgents,
  removeEntry,
  writeHeartbeat,
  type AgentHeartbeat,
} from './agent-directory';
import { ConnectionHealth } from './connection-health';
import { assertRedisReachable, closeRedis, createRedis, type RedisConnection } from './connection';
import { SharedServices } from './shared-services';
import { assertShardable, parseCapabilityLimits, type CapabilityLimits } from './capability-limits';
import { clearCapabilityLimits, readCapabilityLimits, writeCapabilityLimits } from './limits-redis';
import type { TaskJobData } from './task-job';

export interface RedisCoordinatorOptions {
  /** @defaultValue 'localhost' */
  host?: string;
  /** @defaultValue 6379 */
  port?: number;
  /** Wins over host/port: `redis://…`, `rediss://…`, cluster node lists. */
  url?: string;
  /** Already-parsed configuration (from `loadConfig().redis`); wins over url. */
  redis?: RedisConfig;
  /** Deployment prefix; BullMQ keys live under `{prefix}`. @defaultValue 'agentq' */
  prefix?: string;
  /** Put in front of every pub/sub channel. @defaultValue '' */
  channelPrefix?: string;
  /** Hash tags goals are spread over. @defaultValue 1 */
  shards?: number;
  /**
   * `worker` connections retry forever (long-running processes); `command` connections fail
   * fast with a clear message (CLI commands). @defaultValue 'worker'
   */
  role?: 'worker' | 'command';
  /**
   * Called on errors of the connections, queues and flow producers. With `role: 'worker'`,
   * connection errors go to `health` instead (one line when Redis is lost, one when it is back).
   */
  onError?: (error: Error) => void;
  /**
   * How long a finished goal's jobs stay in Redis before they are removed (SQL keeps the
   * history), so Redis memory stays flat however many goals run. @defaultValue 3600000 (1 h)
   */
  retentionMs?: number;
  /** BullMQ telemetry (`startTracing().telemetry`) for every queue, flow producer and worker. */
  telemetry?: Telemetry;
  /**
   * How the internal workers this coordinator's process shares run (`joinInternalWorkers`):
   * set once here, so no later part can ask for other settings. @defaultValue {}
   */
  internalWorkers?: InternalWorkerSettings;
  /**
   * Where the services this coordinator runs for its process (the shared mirror candidate, the
   * internal workers) say what they did: takeovers, reconciles, errors. @defaultValue none
   */
  onLog?: (line: string) => void;
}

export type { AgentHeartbeat } from './agent-directory';

export interface PendingTaskSummary {
  taskId: string;
  goalId: string;
  key: string;
  title: string;
  type: string;
  priority: number;
  queuedAt: Date;
}

export class RedisCoordinator {
  readonly redis: RedisConfig;
  readonly prefix: string;
  readonly channelPrefix: string;
  readonly shards: number;
  readonly retentionMs: number;
  /** Given to every Queue, FlowProducer and agent Worker; undefined when tracing is off. */
  readonly telemetry: Telemetry | undefined;
  /**
   * Whether Redis answers, for this coordinator and everything built on it. Long-running
   * (`worker` role) only: it says within 2 s when Redis cannot be reached at start, and one line
   * when it is lost and one when it is back (stderr unless `health.setWriter` says otherwise).
   */
  readonly health: ConnectionHealth;
  /** The settings of the internal workers shared in this process. */
  readonly internalWorkers: Readonly<InternalWorkerSettings>;
  /** Services run once per process for this coordinator (mirror candidates, internal workers). */
  readonly services = new SharedServices();
  /** Where those services report (`RedisCoordinatorOptions.onLog`). */
  readonly log: (line: string) => void;
  private readonly role: 'worker' | 'command';
  private readonly onError: (error: Error) => void;
  private connection: RedisConnection | null = null;
  private readonly queues = new Map<string, Queue>();
  private readonly flows = new Map<number, FlowProducer>();
  private readonly extra = new Set<RedisConnection>();
  private closed = false;
  private closing: Promise<void> | null = null;

  /** The coordinator a validated configuration describes (connection, prefixes, shards, retention). */
  static fromConfig(
    config: AgentqConfig,
    options: Pick<
      RedisCoordinatorOptions,
      'role' | 'telemetry' | 'onError' | 'onLog' | 'internalWorkers'
    > = {},
  ): RedisCoordinator {
    return new RedisCoordinator({
      redis: config.redis,
      prefix: config.prefix,
      channelPrefix: config.channelPrefix,
      shards: config.shards,
      retentionMs: config.retentionMs,
      ...options,
    });
  }

  constructor(options: RedisCoordinatorOptions = {}) {
    this.redis =
      options.redis ??
      parseRedisUrl(
        options.url ?? `redis://${options.host ?? 'localhost'}:${options.port ?? 6379}`,
      );
    this.prefix = options.prefix ?? 'agentq';
    this.channelPrefix = options.channelPrefix ?? '';
    this.shards = options.shards ?? 1;
    this.retentionMs = options.retentionMs ?? 3_600_000;
    this.role = options.role ?? 'worker';
    const onError = options.onError ?? (() => undefined);
    this.onError = (error) => {
      if (!this.absorbConnectionError(error)) onError(error);
    };
    this.telemetry = options.telemetry;
    this.internalWorkers = { ...options.internalWorkers };
    this.log = options.onLog ?? (() => undefined);
    this.health = new ConnectionHealth({ redis: this.redis, probe: () => this.client.ping() });
  }

  /**
   * Hands a connection error of a long-running part (a Worker's `error` event, say) to `health`:
   * true when it was one, and the caller then says nothing about it.
   */
  absorbConnectionError(error: unknown): boolean {
    return this.role === 'worker' && this.health.absorb(error);
  }

  /**
   * Resolves once Redis answers; until then `health` has said (within 2 s) that it cannot connect
   * and how to fix it. For long-running processes, which wait for Redis instead of failing.
   */
  async untilReachable(): Promise<void> {
    if (this.role === 'command') return this.assertReachable();
    void this.client; // the first use connects
    await this.health.untilReachable();
  }

  /** The shared command connection (not for blocking commands or subscriptions). */
  get client(): RedisConnection {
    if (this.closed) throw new Error('RedisCoordinator is closed');
    if (!this.connection) {
      this.connection = createRedis(this.redis, { role: this.role, onError: this.onError });
      // From the first connection on, a long-running process says when Redis does not answer.
      if (this.role === 'worker') void this.health.untilReachable().catch(() => undefined);
    }
    return this.connection;
  }

  /** A new connection the caller owns (subscribers, blocking reads); closed with the coordinator. */
  duplicate(role: 'worker' | 'command' = this.role): RedisConnection {
    const connection = createRedis(this.redis, { role, onError: this.onError });
    this.extra.add(connection);
    connection.once('end', () => this.extra.delete(connection));
    return connection;
  }

  /** Fails within `timeoutMs` with "Cannot connect to Redis at HOST:PORT" and the fix. */
  async assertReachable(timeoutMs = 5000): Promise<void> {
    await assertRedisReachable(this.client, this.redis, timeoutMs);
  }

  /** The BullMQ prefix of a shard. */
  bullPrefix(shard = 0): string {
    return bullPrefix(this.prefix, shard);
  }

  /** A key of agentq's own, under the deployment's hash tag. */
  key(...parts: string[]): string {
    return agentqKey(this.prefix, ...parts);
  }

  /** A pub/sub channel name with the channel prefix in front. */
  channel(name: string): string {
    return `${this.channelPrefix}${name}`;
  }

  /** The queue of a capability (or an internal queue) on a shard; cached, closed with us. */
  queue(name: string, shard = 0): Queue {
    const id = `${shard}/${name}`;
    let queue = this.queues.get(id);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.client,
        prefix: this.bullPrefix(shard),
        ...(this.telemetry ? { telemetry: this.telemetry } : {}),
      });
      queue.on('error', this.onError);
      this.queues.set(id, queue);
    }
    return queue;
  }

  flowProducer(shard = 0): FlowProducer {
    let flow = this.flows.get(shard);
    if (!flow) {
      const options = { connection: this.client, prefix: this.bullPrefix(shard) };
      // With tracing on, a goal's submission opens the goal span its tasks' spans hang under.
      flow = new FlowProducer(this.telemetry ? { ...options, telemetry: this.telemetry } : options);
      flow.on('error', this.onError);
      this.flows.set(shard, flow);
    }
    return flow;
  }

  async publish(channel: string, payload: unknown): Promise<void> {
    await this.client.publish(this.channel(channel), JSON.stringify(payload));
  }

  /** Records capabilities as known, so status, the board and the mirror find their queues. */
  async registerCapabilities(capabilities: readonly string[]): Promise<void> {
    if (capabilities.length > 0) await this.client.sadd(this.key('capabilities'), ...capabilities);
  }

  async capabilities(): Promise<string[]> {
    const names = await this.client.smembers(this.key('capabilities'));
    return names.filter((n) => !(INTERNAL_QUEUES as readonly string[]).includes(n)).sort();
  }

  /**
   * Sets the limits of a capability (replacing the ones it had), enforced from every agent's
   * next claim on, on every shard; `InputError` naming the field on a bad value, nothing changed.
   * The SQL copy (`agentq recover` restores from it) is the `setLimits` operation's.
   */
  async setCapabilityLimits(
    capability: string,
    limits: CapabilityLimits,
  ): Promise<CapabilityLimits> {
    assertCapability(capability, 'capability');
    const valid = parseCapabilityLimits(limits);
    assertShardable(valid, this.shards);
    await writeCapabilityLimits(this, capability, valid);
    return valid;
  }

  /** The limits of one capability (`null`: none), or of every capability that has any. */
  async getCapabilityLimits(capability: string): Promise<CapabilityLimits | null> {
    return (await readCapabilityLimits(this))[capability] ?? null;
  }

  async allCapabilityLimits(): Promise<Record<string, CapabilityLimits>> {
    return readCapabilityLimits(this);
  }

  /** Removes every limit of a capability; false when it had none. */
  async clearCapabilityLimits(capability: string): Promise<boolean> {
    assertCapability(capability, 'capability');
    return clearCapabilityLimits(this, capability);
  }

  /**
   * Registers an agent under its id for `agent.instance`; `DuplicateAgentError` (bad input) when
   * another live process holds the id (see agent-directory.ts for what "live" means).
   */
  async claimAgent(agent: AgentHeartbeat & { instance: string }): Promise<void> {
    await claimAgentId(this.client, this.key('agents'), agent);
  }

  /** `DuplicateAgentError` when a live process holds `agentId` now (a check; not a claim). */
  async assertAgentIdFree(agentId: string): Promise<void> {
    await assertIdFree(this.client, this.key('agents'), agentId);
  }

  /**
   * Writes an agent's heartbeat. With `instance`, only over that instance's own entry (or none):
   * false when another process holds the id now.
   */
  async heartbeatAgent(agent: AgentHeartbeat): Promise<boolean> {
    return writeHeartbeat(this.client, this.key('agents'), agent);
  }

  /** Removes an agent's entry; with `instance`, only when that instance still holds it. */
  async removeAgent(agentId: string, instance?: string): Promise<void> {
    await removeEntry(this.client, this.key('agents'), agentId, instance);
  }

  /** Live agents: those whose last heartbeat is within three heartbeat intervals. */
  async getAllAgents(now = Date.now()): Promise<AgentInfo[]> {
    return readLiveAgents(this.client, this.key('agents'), now);
  }

  /** Tasks waiting in their capability queues, highest priority first. */
  async getPendingTasks(limit = 1000): Promise<PendingTaskSummary[]> {
    const out: PendingTaskSummary[] = [];
    for (const capability of await this.capabilities()) {
      for (let shard = 0; shard < this.shards; shard++) {
        const jobs = await this.queue(capability, shard).getJobs(
          ['prioritized', 'waiting'],
          0,
          limit,
        );
        for (const job of jobs) {
          const data = job?.data as Partial<TaskJobData> | undefined;
          if (!job || data?.kind !== 'task') continue;
          out.push({
            taskId: data.taskId!,
            goalId: data.goalId!,
            key: data.key!,
            title: data.title!,
            type: data.type!,
            priority: data.priority!,
            queuedAt: new Date(job.timestamp),
          });
        }
      }
    }
    return out
      .sort((a, b) => b.priority - a.priority || a.queuedAt.getTime() - b.queuedAt.getTime())
      .slice(0, limit);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // First the services that still use the connections (a mirror releases its lock).
    await this.services.closeAll();
    this.closed = true;
    this.health.close();
    await Promise.allSettled([...this.flows.values()].map((f) => f.close()));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    await Promise.allSettled([...this.extra].map((c) => closeRedis(c)));
    if (this.connection) await closeRedis(this.connection);
  }
}
