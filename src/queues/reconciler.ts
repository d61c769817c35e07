/**
 * The links' safety net (see links.ts): a process that crashed between a task's end and releasing
 * its links leaves its dependents waiting. Every `intervalMs` (and at start) this releases the
 * links of every source in the pending-links set that ended more than `graceMs` ago — the agent
 * that ended it releases them within milliseconds, so anything older was left by a crash. A pass
 * reads the set in pages and asks each queue for the finished ones among them with ZMSCORE: no
 * job is loaded unless it ended. Idle, it costs one ZRANGE per shard.
 */
import { parsePendingLinkMember, pendingLinksKey, releaseLinksOfJob } from './links';
import type { RedisCoordinator } from './redis-coordinator';

export interface ReconcilerOptions {
  shards: number;
  /** @defaultValue 3000 */
  intervalMs?: number;
  /** Called with errors of a pass (the next pass still runs). */
  onError?: (error: Error) => void;
}

const PAGE = 500;
/** A source that ended this recently is its agent's to release. */
const GRACE_MS = 2000;

/** The members of one page that ended before `before` (in their queue's completed or failed set). */
async function endedBefore(
  c: RedisCoordinator,
  shard: number,
  members: readonly string[],
  before: number,
): Promise<Array<{ type: string; taskId: string; state: 'completed' | 'failed' }>> {
  const byType = new Map<string, string[]>();
  for (const member of members) {
    const { type, taskId } = parsePendingLinkMember(member);
    let ids = byType.get(type);
    if (!ids) byType.set(type, (ids = []));
    ids.push(taskId);
  }
  const ended: Array<{ type: string; taskId: string; state: 'completed' | 'failed' }> = [];
  for (const [type, ids] of byType) {
    const keys = c.queue(type, shard).keys;
    const [completed, failed] = await Promise.all([
      c.client.zmscore(keys.completed!, ...ids),
      c.client.zmscore(keys.failed!, ...ids),
    ]);
    ids.forEach((taskId, i) => {
      const state = completed[i] != null ? 'completed' : failed[i] != null ? 'failed' : null;
      if (state && Number(completed[i] ?? failed[i]) < before) ended.push({ type, taskId, state });
    });
  }
  return ended;
}

/** One pass over one shard; returns how many sources it released. */
export async function reconcileLinks(
  c: RedisCoordinator,
  shard: number,
  graceMs = GRACE_MS,
): Promise<number> {
  const key = pendingLinksKey(c, shard);
  const before = Date.now() - graceMs;
  let released = 0;
  for (let start = 0; ; start += PAGE) {
    const members = await c.client.zrange(key, start, start + PAGE - 1);
    if (members.length === 0) return released;
    for (const { type, taskId, state } of await endedBefore(c, shard, members, before)) {
      if (await releaseLinksOfJob(c, shard, type, taskId, state)) released++;
    }
    if (members.length < PAGE) return released;
  }
}

export function startReconciler(
  c: RedisCoordinator,
  options: ReconcilerOptions,
): { close(): Promise<void> } {
  const intervalMs = options.intervalMs ?? 3000;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const pass = async () => {
    for (let shard = 0; shard < options.shards && !closed; shard++) {
      await reconcileLinks(c, shard).catch((e: Error) => options.onError?.(e));
    }
  };
  const loop = () => {
    running = pass().finally(() => {
      if (!closed) timer = setTimeout(loop, intervalMs);
    });
  };
  loop();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
