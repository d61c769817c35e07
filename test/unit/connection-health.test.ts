/**
 * ConnectionHealth's rules without a server: which errors are connection errors, and how many
 * lines a loss, a blip, an unreachable start and a return make. The probe is the injected
 * "does Redis answer a PING" function (a real PING in the coordinator).
 */
import { parseRedisUrl } from '../../src/config';
import { ConnectionError } from '../../src/errors';
import { ConnectionHealth, isConnectionError } from '../../src/queues/connection-health';
import { waitFor } from '../helpers/wait-for';

const redis = parseRedisUrl('redis://127.0.0.1:6399');

/** A probe whose PINGs stay unanswered until `answer()`; each call is one PING. */
function gatedProbe() {
  let open = false;
  const waiting: Array<() => void> = [];
  return {
    calls: 0,
    probe(this: { calls: number }): Promise<void> {
      this.calls++;
      if (open) return Promise.resolve();
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    answer() {
      open = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
    block() {
      open = false;
    },
  };
}

function world(opened = true) {
  const gate = gatedProbe();
  if (opened) gate.answer();
  const lines: string[] = [];
  const health = new ConnectionHealth({
    redis,
    probe: () => gate.probe(),
    noticeMs: 30,
    write: (line) => lines.push(line),
  });
  return { gate, lines, health };
}

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6399'), {
  code: 'ECONNREFUSED',
});

describe('isConnectionError', () => {
  it('knows the errors of a refused, reset or closed connection', () => {
    expect(isConnectionError(refused)).toBe(true);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(isConnectionError(reset)).toBe(true);
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionError(new Error('LOADING Redis is loading the dataset in memory'))).toBe(
      true,
    );
  });

  it('leaves every other error to its reporter', () => {
    expect(isConnectionError(new Error('handler blew up'))).toBe(false);
    expect(isConnectionError(new Error('ERR unknown command'))).toBe(false);
    expect(isConnectionError('ECONNREFUSED')).toBe(false);
  });
});

describe('ConnectionHealth', () => {
  it('says nothing when Redis answers at start', async () => {
    const { health, lines } = world();
    await health.untilReachable();
    expect(health.state).toBe('up');
    expect(lines).toEqual([]);
    health.close();
  });

  it('says once that Redis is lost, however many errors follow, and once that it is back', async () => {
    const { health, lines, gate } = world();
    await health.untilReachable();
    gate.block();
    for (let i = 0; i < 50; i++) expect(health.absorb(refused)).toBe(true);
    await waitFor('the lost line', () => lines.length === 1);
    for (let i = 0; i < 50; i++) health.absorb(refused);
    expect(health.state).toBe('down');
    gate.answer();
    await waitFor('the back line', () => lines.length === 2);
    expect(lines).toEqual([
      'warning: Lost the connection to Redis at 127.0.0.1:6399 (connect ECONNREFUSED ' +
        '127.0.0.1:6399). If it stopped, start it (sudo systemctl start redis-server, or ' +
        'redis-server --daemonize yes). Retrying…',
      'Redis at 127.0.0.1:6399 is back.',
    ]);
    expect(health.state).toBe('up');
    health.close();
  });

  it('says nothing about one connection that failed while Redis still answers', async () => {
    const { health, lines, gate } = world();
    await health.untilReachable();
    const before = gate.calls;
    health.absorb(refused);
    await waitFor('the check to end', () => health.state === 'up' && gate.calls > before);
    expect(lines).toEqual([]);
    health.close();
  });

  it('says once at start that Redis cannot be reached, with the fix, then that it connected', async () => {
    const { health, lines, gate } = world(false);
    const reachable = health.untilReachable();
    await waitFor('the cannot-connect line', () => lines.length === 1);
    for (let i = 0; i < 20; i++) health.absorb(refused);
    gate.answer();
    await reachable;
    expect(lines).toEqual([
      'warning: Cannot connect to Redis at 127.0.0.1:6399. Start it (sudo systemctl start ' +
        'redis-server, or redis-server --daemonize yes) or point REDIS_URL at a running server. ' +
        'Retrying until it answers…',
      'Connected to Redis at 127.0.0.1:6399.',
    ]);
    health.close();
  });

  it('ends a wait for Redis when closed', async () => {
    const { health } = world(false);
    const reachable = health.untilReachable();
    health.close();
    await expect(reachable).rejects.toBeInstanceOf(ConnectionError);
  });

  it('takes no other error', () => {
    const { health, lines } = world();
    expect(health.absorb(new Error('handler blew up'))).toBe(false);
    expect(lines).toEqual([]);
    health.close();
  });
});
