/**
 * Over a real listening server: the SSE stream replays the audit log after `?after=` and relays
 * live transitions published by the real mirror's bridge; Bull Board's own API shows a goal's
 * flow tree under its root job; `startServer` refuses a non-loopback host without a token.
 */
import request from 'supertest';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { startServer, type RunningServer } from '../../src/board/server';
import { GOALS_QUEUE } from '../../src/queues/names';
import { startApiApp, type ApiFixture } from '../helpers/api-app';
import { waitFor } from '../helpers/wait-for';

interface SseEvent {
  id: string | null;
  event: string;
  data: { seq?: number; taskId?: string; state?: string; key?: string; type?: string };
}

/** Reads SSE frames from a fetch body until `until` holds or the reader is cancelled. */
async function readEvents(
  url: string,
  until: (events: SseEvent[]) => boolean,
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          frame.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1] ?? null;
        const data = field('data');
        if (data)
          events.push({ id: field('id'), event: field('event') ?? '', data: JSON.parse(data) });
      }
    }
  } finally {
    controller.abort();
    await reader.cancel().catch(() => undefined);
  }
  return events;
}

describe('SSE, Bull Board flows and the server', () => {
  let api: ApiFixture;
  let server: RunningServer;
  let mirror: MirrorHandle;

  beforeAll(async () => {
    api = await startApiApp({ supervisor: true });
    mirror = startMirror({ store: api.store, coordinator: api.coordinator, blockMs: 50 });
    await waitFor('the mirror to lead', () => mirror.isLeader);
    server = await startServer({ app: api.app, host: '127.0.0.1', port: 0, token: null });
  });

  afterAll(async () => {
    await api?.close(); // ends SSE streams first
    await server?.close();
    await mirror?.close();
  });

  it('relays live transitions from the bridge with their seq, and replays after ?after=', async () => {
    const live = readEvents(`${server.url}/api/events/stream`, (e) => e.length >= 2);
    await waitFor('the SSE client to attach', () => api.sseClients() === 1);
    const submitted = await request(api.app)
      .post('/api/goals')
      .send({
        plan: {
          goal: 'Stream me',
          tasks: [
            { key: 'a', title: 'A', type: 'sse' },
            { key: 'b', title: 'B', type: 'sse' },
          ],
        },
      })
      .expect(201);
    const events = await live;
    expect(events.map((e) => [e.event, e.data.key, e.data.type, e.data.state])).toEqual([
      ['tasks:new', 'a', 'sse', 'PENDING'],
      ['tasks:new', 'b', 'sse', 'PENDING'],
    ]);
    expect(events.map((e) => Number(e.id))).toEqual([
      events[0]!.data.seq,
      events[0]!.data.seq! + 1,
    ]);

    const replay = await readEvents(
      `${server.url}/api/events/stream?after=0&goalId=${submitted.body.goalId}`,
      (e) => e.length >= 2,
    );
    expect(replay.map((e) => e.data.taskId)).toEqual(events.map((e) => e.data.taskId));
  });

  it("shows a goal's flow tree through Bull Board's own API", async () => {
    const submitted = await request(api.app)
      .post('/api/goals')
      .send({
        plan: {
          goal: 'Flow',
          tasks: [
            { key: 'x', title: 'X', type: 'flowcap' },
            { key: 'y', title: 'Y', type: 'flowcap', dependsOn: ['x'] },
          ],
        },
      })
      .expect(201);
    const goalId = submitted.body.goalId as string;
    const res = await request(api.app)
      .get(`/board/api/queues/${GOALS_QUEUE}/${goalId}/flow`)
      .expect(200);
    const text = JSON.stringify(res.body);
    expect(text).toContain(`${goalId}.y`);
    expect(text).toContain(`${goalId}.x`);
  });

  it('shows a shared task under each of its dependents (a link) in Bull Board', async () => {
    const submitted = await request(api.app)
      .post('/api/goals')
      .send({
        plan: {
          goal: 'Shared',
          tasks: [
            { key: 'x', title: 'X', type: 'flowcap' },
            { key: 'y', title: 'Y', type: 'flowcap', dependsOn: ['x'] },
            { key: 'z', title: 'Z', type: 'flowcap', dependsOn: ['x'] },
          ],
        },
      })
      .expect(201);
    const goalId = submitted.body.goalId as string;
    // x's BullMQ parent is y; z holds x through a link, and Bull Board lists it there too.
    for (const dependent of ['y', 'z']) {
      const res = await request(api.app)
        .get(`/board/api/queues/flowcap/${goalId}.${dependent}/flow`)
        .expect(200);
      expect(JSON.stringify(res.body)).toContain(`${goalId}.x`);
    }
  });

  it('refuses a non-loopback host without a token', async () => {
    await expect(
      startServer({ app: api.app, host: '0.0.0.0', port: 0, token: null }),
    ).rejects.toMatchObject({
      field: 'AGENTQ_HOST',
    });
  });
});
