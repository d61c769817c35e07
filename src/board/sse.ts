/**
 * `GET /api/events/stream`: Server-Sent Events relaying the pub/sub channels (`tasks:*`,
 * `goals:complete`) to browsers and scripts. One Redis subscription per server is shared by every
 * client. A client that reconnects with `Last-Event-ID` (or asks `?after=SEQ`) first gets what it
 * missed from the audit log (`store.eventsAfter`), then the live stream, each seq exactly once
 * and in order. `?goalId=` narrows the stream to one goal (the goal page uses it).
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { TaskStore } from '../entities/task-store';
import type { RedisConnection } from '../queues/connection';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import { isGoalEventName } from '../entities/task-model';
import {
  channelMessage,
  GOALS_BUDGET_CHANNEL,
  GOALS_COMPLETE_CHANNEL,
  taskKeyOf,
  type TaskChannelPayload,
  type TaskIdentity,
} from '../mirror/channel-payload';
import { parseInput } from './routes/validate';

export interface EventStreamOptions {
  store: TaskStore;
  coordinator: RedisCoordinator;
  log: (line: string) => void;
  /** A comment line keeps proxies from closing an idle stream. @defaultValue 15000 */
  keepAliveMs?: number;
  /** Called with every live task event (metrics use it). */
  onTaskEvent?: (payload: TaskChannelPayload) => void;
}

export interface EventStream {
  router: Router;
  /** Opens the shared subscription; resolves once Redis confirmed it. */
  ready: Promise<void>;
  /** Live clients (for metrics and tests). */
  clientCount(): number;
  /** Ends every client's response and drops the subscription. */
  close(): Promise<void>;
}

interface Client {
  res: Response;
  goalId: string | null;
  lastSeq: number;
  /** Live messages that arrive while the replay runs; sent after it, without repeats. */
  pending: Array<{ event: string; data: string; seq: number | null; goalId: string }> | null;
}

const streamQuery = z.object({
  after: z.coerce.number().int().min(0).optional(),
  goalId: z.string().min(1).max(200).optional(),
});

const REPLAY_PAGE = 1000;

function frame(event: string, data: string, seq: number | null): string {
  return `${seq === null ? '' : `id: ${seq}\n`}event: ${event}\ndata: ${data}\n\n`;
}

export function createEventStream(options: EventStreamOptions): EventStream {
  const { store, coordinator, log } = options;
  const clients = new Set<Client>();
  const identities = new Map<string, TaskIdentity>();
  let subscriber: RedisConnection | null = null;
  let closed = false;

  function deliver(
    client: Client,
    event: string,
    data: string,
    seq: number | null,
    goalId: string,
  ) {
    if (client.goalId && client.goalId !== goalId) return;
    if (seq !== null) {
      if (seq <= client.lastSeq) return;
      client.lastSeq = seq;
    }
    client.res.write(frame(event, data, seq));
  }

  function onMessage(channel: string, message: string) {
    let parsed: { seq?: unknown; goalId?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      log(`sse: ignored a message on ${channel} that is not JSON`);
      return;
    }
    const event = channel.slice(coordinator.channelPrefix.length);
    const seq = typeof parsed.seq === 'number' ? parsed.seq : null;
    const goalId = typeof parsed.goalId === 'string' ? parsed.goalId : '';
    if (seq !== null && event.startsWith('tasks:')) {
      options.onTaskEvent?.(parsed as TaskChannelPayload);
    }
    for (const client of clients) {
      if (client.pending) client.pending.push({ event, data: message, seq, goalId });
      else deliver(client, event, message, seq, goalId);
    }
  }

  async function subscribe(): Promise<void> {
    if (subscriber) return;
    subscriber = coordinator.duplicate('worker');
    subscriber.on('pmessage', (_pattern: string, channel: string, message: string) =>
      onMessage(channel, message),
    );
    subscriber.on('message', (channel: string, message: string) => onMessage(channel, message));
    await subscriber.psubscribe(coordinator.channel('tasks:*'));
    await subscriber.subscribe(
      coordinator.channel(GOALS_COMPLETE_CHANNEL),
      coordinator.channel(GOALS_BUDGET_CHANNEL),
    );
  }

  /** A replayed event's key, type and spawnedBy, as the live payload carries them. */
  async function identityOf(taskId: string): Promise<TaskIdentity> {
    let identity = identities.get(taskId);
    if (identity === undefined) {
      const task = await store.getTask(taskId);
      identity = { key: taskKeyOf(taskId), type: task?.type ?? '', spawnedBy: task?.spawnedBy };
      if (identities.size > 10000) identities.clear();
      identities.set(taskId, identity);
    }
    return identity;
  }

  async function replay(client: Client, after: number): Promise<void> {
    for (let from = after; !client.res.writableEnded;) {
      const events = await store.eventsAfter(from, REPLAY_PAGE);
      for (const record of events) {
        const goalEvent = isGoalEventName(record.event);
        const identity = goalEvent ? { key: '', type: '' } : await identityOf(record.taskId);
        const { channel, payload } = channelMessage(record, identity);
        deliver(client, channel, JSON.stringify(payload), record.seq, record.goalId);
      }
      if (events.length < REPLAY_PAGE) return;
      from = events.at(-1)!.seq;
    }
  }

  async function open(req: Request, res: Response): Promise<void> {
    const query = parseInput(streamQuery, req.query, 'query');
    const header = req.headers['last-event-id'];
    // A seq is a safe integer; anything else (`99999…` past 2^53, or past PostgreSQL's bigint) is
    // not an id this server sent, so it is ignored like a missing one.
    const fromHeader =
      typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : NaN;
    const resumeFrom = Number.isSafeInteger(fromHeader) ? fromHeader : query.after;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': agentq events\n\n');
    const client: Client = {
      res,
      goalId: query.goalId ?? null,
      lastSeq: resumeFrom ?? 0,
      pending: resumeFrom === undefined ? null : [],
    };
    clients.add(client);
    req.on('close', () => clients.delete(client));
    await ready;
    if (client.pending) {
      await replay(client, resumeFrom ?? 0);
      const buffered = client.pending;
      client.pending = null;
      for (const m of buffered) deliver(client, m.event, m.data, m.seq, m.goalId);
    }
  }

  const ready = subscribe();
  ready.catch((error: unknown) => log(`sse: could not subscribe: ${String(error)}`));

  const keepAlive = setInterval(() => {
    for (const client of clients) client.res.write(': ping\n\n');
  }, options.keepAliveMs ?? 15000);
  keepAlive.unref();

  const router = Router();
  router.get('/api/events/stream', async (req, res) => {
    if (closed) {
      res.status(503).end();
      return;
    }
    await open(req, res);
  });

  return {
    router,
    ready,
    clientCount: () => clients.size,
    async close() {
      closed = true;
      clearInterval(keepAlive);
      for (const client of clients) client.res.end();
      clients.clear();
      const connection = subscriber;
      subscriber = null;
      if (connection) await connection.quit().catch(() => connection.disconnect());
    },
  };
}
