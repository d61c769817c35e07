/**
 * Follows the pub/sub channels (docs/events.md) and prints every task event once, in `seq` order:
 * events published while it backfills wait their turn, a gap in `seq` (a message lost while
 * reconnecting) is filled from the store, and anything already printed is skipped.
 */
import type { TaskEventRecord } from '../entities/task-model';
import type { TaskRegistry } from '../entities/task-registry';
import { TASK_EVENT_NAMES } from '../entities/task-model';
import { closeRedis, type RedisConnection } from '../queues/connection';
import { taskKeyOfJobId } from '../queues/protocol';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import type { Colors } from './output';

/** One event as printed: from the store or from a channel payload. */
export interface EventLine {
  /** null for goal events, which are not in the task event log. */
  seq: number | null;
  event: string;
  taskId: string | null;
  goalId: string | null;
  key: string | null;
  state: string | null;
  attempt: number | null;
  agentId: string | null;
  at: string;
  error: string | null;
}

export const FOLLOWED_CHANNELS = [...TASK_EVENT_NAMES.map((e) => `tasks:${e}`), 'goals:complete'];

const PAGE = 500;
/** ioredis's own disconnect timeout: waiting longer than it would gain nothing. */
const END_WAIT_MS = 2000;

export function eventLineOf(e: TaskEventRecord): EventLine {
  return {
    seq: e.seq,
    event: e.event,
    taskId: e.taskId,
    goalId: e.goalId,
    key: taskKeyOfJobId(e.taskId),
    state: e.toState,
    attempt: e.attempt,
    agentId: e.agentId,
    at: e.at.toISOString(),
    error: e.detail?.error?.message ?? null,
  };
}

/** A channel payload (`{ v: 1, seq, event, taskId, … }`) as a line; unknown fields are ignored. */
export function eventLineOfPayload(channel: string, payload: Record<string, unknown>): EventLine {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  const error = payload.error as { message?: unknown } | undefined;
  return {
    seq: num(payload.seq),
    event: str(payload.event) ?? channel,
    taskId: str(payload.taskId),
    goalId: str(payload.goalId),
    key: str(payload.key),
    state: str(payload.state),
    attempt: num(payload.attempt),
    agentId: str(payload.agentId),
    at: str(payload.at) ?? new Date().toISOString(),
    error: str(error?.message),
  };
}

export function formatEventLine(e: EventLine, color: Colors): string {
  const parts = [
    color.dim(e.seq === null ? '     -' : String(e.seq).padStart(6)),
    color.dim(e.at),
    e.event.padEnd(9),
    e.taskId ?? e.goalId ?? '',
    e.state ?? '',
  ];
  if (e.attempt) parts.push(`attempt ${e.attempt}`);
  if (e.agentId) parts.push(`by ${e.agentId}`);
  if (e.error) parts.push(color.red(e.error));
  return parts.join(' ');
}

/**
 * Closes a subscriber of our own and waits for its end, so the coordinator's close finds it
 * gone: closing it again there, half-closed, would hold the process for ioredis's 2 s
 * disconnect timeout.
 */
export async function endConnection(connection: RedisConnection): Promise<void> {
  if (connection.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<void>((resolve) => {
    connection.once('end', () => resolve());
    // Bounded all the same: the coordinator's close is the fallback.
    timer = setTimeout(resolve, END_WAIT_MS);
  });
  await closeRedis(connection);
  await ended;
  clearTimeout(timer);
}

export class EventFollower {
  private chain: Promise<void> = Promise.resolve();
  private readonly onMessage = (channel: string, message: string) => {
    this.chain = this.chain.then(() => this.handle(channel, message)).catch(() => undefined);
  };

  constructor(
    private readonly registry: TaskRegistry,
    private readonly coordinator: RedisCoordinator,
    private readonly subscriber: RedisConnection,
    private lastSeq: number,
    private readonly print: (event: EventLine) => void,
  ) {}

  /** Subscribes first, then prints what the store has after the cursor, then live events. */
  async start(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    await this.subscriber.subscribe(...FOLLOWED_CHANNELS.map((c) => this.coordinator.channel(c)));
    this.chain = this.chain.then(() => this.fillTo(Number.POSITIVE_INFINITY));
    await this.chain;
  }

  async stop(): Promise<void> {
    this.subscriber.off('message', this.onMessage);
    await this.chain;
    await endConnection(this.subscriber);
  }

  private async handle(channel: string, message: string): Promise<void> {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(message) as Record<string, unknown>;
    } catch {
      return; // Not ours: the channel contract is JSON.
    }
    const line = eventLineOfPayload(channel.slice(this.coordinator.channelPrefix.length), payload);
    if (line.seq === null) return this.print(line);
    if (line.seq <= this.lastSeq) return;
    if (line.seq > this.lastSeq + 1) await this.fillTo(line.seq - 1);
    if (line.seq <= this.lastSeq) return; // the fill reached it
    this.print(line);
    this.lastSeq = line.seq;
  }

  /** Prints stored events after the cursor up to `seq` (inclusive). */
  private async fillTo(seq: number): Promise<void> {
    for (;;) {
      const page = await this.registry.eventsAfter(this.lastSeq, PAGE);
      for (const event of page) {
        if (event.seq > seq) return;
        this.print(eventLineOf(event));
        this.lastSeq = event.seq;
      }
      if (page.length < PAGE) return;
    }
  }
}
