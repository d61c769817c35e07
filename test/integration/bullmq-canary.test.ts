/**
 * The BullMQ canary: every internal of BullMQ agentq relies on (src/queues/bullmq-internals.ts)
 * still exists and still looks the way agentq reads it, checked against the installed BullMQ and
 * a real Redis (jobs under a unique prefix). The first test to fail after an upgrade of BullMQ.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job, Queue, RedisQueueBackend, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  addFlowJob,
  BACKEND_METHODS,
  BULLMQ_RANGE,
  bullStreamEvent,
  dependenciesKey,
  dropJobFragments,
  failedChildrenKey,
  isMissingParentError,
  JOB_FIELDS,
  jobHashState,
  jobKey,
  logsKey,
  processedKey,
  queueBackend,
  releaseParentIfNoPendingDependencies,
  SCRIPT_NAMES,
  writeStarted,
  type BullStreamEvent,
} from '../../src/queues/bullmq-internals';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const ROOT = join(__dirname, '../..');

/** `~X.Y.Z`: at least X.Y.Z, below X.(Y+1).0 — the only kind of range this pin uses. */
function satisfiesTilde(version: string, range: string): boolean {
  const want = /^~(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const have = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!want || !have) throw new Error(`cannot compare ${version} with ${range}`);
  const [wMajor, wMinor, wPatch] = want.slice(1).map(Number) as [number, number, number];
  const [hMajor, hMinor, hPatch] = have.slice(1).map(Number) as [number, number, number];
  return hMajor === wMajor && hMinor === wMinor && hPatch >= wPatch;
}

function readJson(path: string): { version?: string; dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(path, 'utf8')) as {
    version?: string;
    dependencies?: Record<string, string>;
  };
}

describe('the BullMQ internals agentq relies on', () => {
  const prefix = `{${uniquePrefix('canary')}}`;
  const name = 'canary';
  let connection: Redis;
  let queue: Queue;
  const workers: Worker[] = [];
  const workerConnections: Redis[] = [];
  /** The jobs the worker fails, with their reasons; every other job returns `{ from: id }`. */
  const FAILING: Record<string, string> = { optional: 'optional broke', retried: 'first attempt' };

  const keyOf = (id: string) => jobKey(prefix, name, id);

  async function entries(): Promise<BullStreamEvent[]> {
    const raw = await connection.xrange(queue.keys.events!, '-', '+');
    return raw
      .map(([, fields]) => {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        return bullStreamEvent(f);
      })
      .filter((e): e is BullStreamEvent => e !== null);
  }

  beforeAll(async () => {
    connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    queue = new Queue(name, { connection, prefix });
    queue.on('error', () => undefined);
    await queue.waitUntilReady();
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(workerConnections.map((c) => c.quit()));
    await queue.close();
    // Only this file's keys: the shared server is never flushed.
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await connection.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    if (keys.length > 0) await connection.del(...keys);
    await connection.quit();
  });

  /** Starts the one worker of the file (jobs of later tests run through it too). */
  function startWorker(): void {
    if (workers.length > 0) return;
    const workerConnection = connection.duplicate({ maxRetriesPerRequest: null });
    workerConnections.push(workerConnection);
    const worker = new Worker(
      name,
      async (job: Job) => {
        const reason = FAILING[job.id!];
        if (reason) throw new Error(reason);
        return { from: job.id };
      },
      { connection: workerConnection, prefix },
    );
    worker.on('error', () => undefined);
    workers.push(worker);
  }

  it('is the BullMQ version range package.json pins, and the installed one satisfies it', () => {
    const pkg = readJson(join(ROOT, 'package.json'));
    expect(pkg.dependencies?.bullmq).toBe(BULLMQ_RANGE);
    const installed = readJson(require.resolve('bullmq/package.json')).version!;
    expect(satisfiesTilde(installed, BULLMQ_RANGE)).toBe(true);
  });

  it('finds every private method and every script it calls by name', async () => {
    for (const method of BACKEND_METHODS) {
      expect(
        typeof (RedisQueueBackend.prototype as unknown as Record<string, unknown>)[method],
      ).toBe('function');
    }
    expect(typeof Job.prototype.toFlowEntry).toBe('function');
    const backend = queueBackend(queue);
    expect(backend).toBeInstanceOf(RedisQueueBackend);
    const client = (await backend.client) as unknown as Record<string, unknown>;
    // execCommand runs `<name>:<version>`, the command BullMQ defined for each loaded script.
    const { version } = backend as unknown as { version: string };
    for (const script of SCRIPT_NAMES) {
      expect(typeof client[`${script}:${version}`]).toBe('function');
    }
  });

  it('writes a flow job, its pending children and its finished children where agentq reads them', async () => {
    const backend = queueBackend(queue);
    const multi = (await backend.client).multi();
    const add = (id: string, parentKey: string | undefined, waits: boolean, opts = {}) =>
      addFlowJob(backend, multi, {
        queue,
        name: 'job',
        data: { id },
        opts: {
          jobId: id,
          ...(parentKey
            ? { parent: { id: parentKey.split(':').pop()!, queue: queue.qualifiedName } }
            : {}),
          ...opts,
        },
        jobId: id,
        ...(parentKey ? { parentKey } : {}),
        waitsForChildren: waits,
      });
    await add('parent', undefined, true);
    await add('child', keyOf('parent'), false);
    await add('held', undefined, true);
    await add('parent2', undefined, true);
    await add('optional', keyOf('parent2'), false, {
      ignoreDependencyOnFailure: true,
      attempts: 1,
    });
    const replies = await multi.exec();
    expect(replies!.every(([error]) => error === null)).toBe(true);

    expect(await connection.hget(keyOf('parent'), JOB_FIELDS.data)).toBe(
      JSON.stringify({ id: 'parent' }),
    );
    expect(await connection.smembers(dependenciesKey(keyOf('parent')))).toEqual([keyOf('child')]);
    expect(await queue.getJobState('parent')).toBe('waiting-children');
    expect(await queue.getJobState('held')).toBe('waiting-children');

    startWorker();
    await waitFor('the child and the optional child to end', async () => {
      const states = await Promise.all(['child', 'optional'].map((id) => queue.getJobState(id)));
      return states[0] === 'completed' && states[1] === 'failed';
    });
    expect(await connection.hget(processedKey(keyOf('parent')), keyOf('child'))).toBe(
      JSON.stringify({ from: 'child' }),
    );
    expect(await connection.hget(keyOf('child'), JOB_FIELDS.returnvalue)).toBe(
      JSON.stringify({ from: 'child' }),
    );
    expect(await connection.hget(failedChildrenKey(keyOf('parent2')), keyOf('optional'))).toBe(
      'optional broke',
    );
    expect(
      await connection.hmget(keyOf('optional'), JOB_FIELDS.failedReason, JOB_FIELDS.attemptsMade),
    ).toEqual(['optional broke', '1']);
    expect(Number(await connection.hget(keyOf('child'), JOB_FIELDS.finishedOn))).toBeGreaterThan(0);

    // A job held in waiting-children with nothing pending moves on with BullMQ's own script.
    await releaseParentIfNoPendingDependencies(backend, await backend.client, {
      key: keyOf('held'),
      queueKey: queue.qualifiedName,
      id: 'held',
    });
    await waitFor(
      'the released job to run',
      async () => (await queue.getJobState('held')) === 'completed',
    );

    const events = await entries();
    expect(events).toContainEqual({ event: 'waiting', jobId: 'parent', prev: 'waiting-children' });
    expect(events).toContainEqual({ event: 'waiting', jobId: 'held', prev: 'waiting-children' });
    expect(events).toContainEqual({ event: 'other', name: 'active', jobId: 'child' });
    expect(events).toContainEqual({
      event: 'completed',
      jobId: 'child',
      returnvalue: JSON.stringify({ from: 'child' }),
    });
    expect(events).toContainEqual({
      event: 'failed',
      jobId: 'optional',
      failedReason: 'optional broke',
    });
  });

  it('streams fresh adds, retries, progress and logs in the format the mirror parses', async () => {
    await queue.add('job', {}, { jobId: 'fresh' });
    const retried = await queue.add('job', {}, { jobId: 'retried', attempts: 2, backoff: 60000 });
    await retried.updateProgress({ step: 1 });
    await retried.log('a line');
    expect(await connection.lrange(logsKey(keyOf('retried')), 0, -1)).toEqual(['a line']);
    expect(await connection.hget(keyOf('retried'), JOB_FIELDS.progress)).toBe(
      JSON.stringify({ step: 1 }),
    );
    const events = await entries();
    expect(events).toContainEqual({ event: 'waiting', jobId: 'fresh', prev: undefined });
    expect(events).toContainEqual({
      event: 'progress',
      jobId: 'retried',
      data: JSON.stringify({ step: 1 }),
    });

    startWorker();
    await waitFor(
      'the retry to wait out its backoff',
      async () => (await queue.getJobState('retried')) === 'delayed',
    );
    expect(await entries()).toContainEqual({ event: 'delayed', jobId: 'retried' });
    expect(
      await connection.hmget(keyOf('retried'), JOB_FIELDS.failedReason, JOB_FIELDS.attemptsMade),
    ).toEqual(['first attempt', '1']);
  });

  it('writes a started report exactly as updateProgress and addLog do, and nothing for a lost job', async () => {
    const bull = await queue.add('job', {}, { jobId: 'by-bullmq', keepLogs: 1 });
    await queue.add('job', {}, { jobId: 'by-agentq', keepLogs: 1 });
    const progress = JSON.stringify({ phase: 'started' });
    await bull.log('old line');
    await bull.updateProgress({ phase: 'started' });
    await bull.log('started line');
    const write = (jobId: string, logLine: string) =>
      writeStarted(connection, {
        jobKey: keyOf(jobId),
        eventsKey: queue.keys.events!,
        jobId,
        progress,
        logLine,
        keepLogs: 1,
      });
    expect(await write('by-agentq', 'old line')).toBe(true);
    expect(await write('by-agentq', 'started line')).toBe(true);
    for (const id of ['by-bullmq', 'by-agentq']) {
      expect(await connection.hget(keyOf(id), JOB_FIELDS.progress)).toBe(progress);
      expect(await connection.lrange(logsKey(keyOf(id)), 0, -1)).toEqual(['started line']);
    }
    const stream = (await connection.xrange(queue.keys.events!, '-', '+')).map(([, f]) => f);
    for (const id of ['by-bullmq', 'by-agentq']) {
      const entry = stream.find((fields) => fields[1] === 'progress' && fields[3] === id);
      expect(entry).toEqual(['event', 'progress', 'jobId', id, 'data', progress]);
    }

    // A job Redis lost: nothing is written, no fragment of its hash is made.
    expect(await write('lost', 'a line')).toBe(false);
    expect(await connection.exists(keyOf('lost'), logsKey(keyOf('lost')))).toBe(0);
  });

  it('tells a job from a fragment of its hash, and drops fragments only', async () => {
    await queue.add('job', {}, { jobId: 'whole' });
    await connection.hset(keyOf('fragment'), 'progress', '{}');
    await connection.rpush(logsKey(keyOf('fragment')), 'late line');
    expect(await jobHashState(connection, keyOf('whole'))).toBe('present');
    expect(await jobHashState(connection, keyOf('fragment'))).toBe('fragment');
    expect(await jobHashState(connection, keyOf('nothing'))).toBe('missing');
    expect(
      await dropJobFragments(connection, [keyOf('whole'), keyOf('fragment'), keyOf('nothing')]),
    ).toBe(1);
    expect(await connection.exists(keyOf('fragment'), logsKey(keyOf('fragment')))).toBe(0);
    expect(await jobHashState(connection, keyOf('whole'))).toBe('present');
  });

  it('recognises the error of an add under a parent that is gone', async () => {
    const error = await queue
      .add('job', {}, { parent: { id: 'gone', queue: queue.qualifiedName } })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isMissingParentError(error)).toBe(true);
    expect(isMissingParentError(new Error('something else'))).toBe(false);
  });
});
