/**
 * Secrets never reach a log: `serve`, `worker` and `status` run as real processes with a Redis
 * password (a private redis-server with `--requirepass`), `AGENTQ_TOKEN`, `AGENTQ_READONLY_TOKEN`
 * and a PostgreSQL password in their URLs — right and wrong values, unreachable servers and
 * malformed URLs — and nothing they print holds any of them. The password URL itself works, and
 * so does `rediss://` against a private redis-server with a self-signed certificate made by
 * openssl (trusted through NODE_EXTRA_CA_CERTS, as a user would).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { mask } from '../../src/config';
import { freePort, PrivateRedis } from '../helpers/redis-server';
import { createPgSchema, PG_URL, uniquePrefix } from '../helpers/servers';

const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'bin.js');
const HANDLERS = resolve(__dirname, '../fixtures/handlers/behaviours.cjs');

const REDIS_PASSWORD = 'redisPw-7f3a9c1e';
const WRONG_REDIS_PASSWORD = 'wrongPw-0b8d2e44';
const TOKEN = 'adminTok-5c2e8f17a9';
const READONLY_TOKEN = 'readTok-9e1d4b3c22';
const PG_PASSWORD = 'pgPw-3d7b1a9e55';
const SECRETS = [REDIS_PASSWORD, WRONG_REDIS_PASSWORD, TOKEN, READONLY_TOKEN, PG_PASSWORD];

interface Run {
  code: number | null;
  output: string;
}

/**
 * Runs `agentq args` with `env`; with `until`, waits for that text on stdout/stderr (or `ready`
 * to resolve), then sends SIGTERM. Killed at `boundMs` whatever happens.
 */
function agentq(
  args: string[],
  env: Record<string, string>,
  options: { until?: RegExp; ready?: () => Promise<boolean>; boundMs?: number } = {},
): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      child.kill('SIGTERM');
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (options.until?.test(output)) stop();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const poll = options.ready
      ? setInterval(() => {
          options.ready!().then(
            (ok) => ok && stop(),
            () => undefined,
          );
        }, 200)
      : undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.boundMs ?? 40_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolvePromise({ code, output });
    });
  });
}

function expectNoSecret(run: Run): void {
  for (const secret of SECRETS) {
    if (run.output.includes(secret)) {
      throw new Error(`output holds the secret ${secret.slice(0, 8)}…:\n${run.output}`);
    }
  }
}

describe('secrets in logs, and Redis URLs with a password or TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-secrets-'));
  let redis: PrivateRedis;
  let tlsPort: number;
  let pg: { schema: string; drop: () => Promise<void> };
  let base: Record<string, string>;
  const pgWithPassword = (url: string) =>
    url.replace('postgres://postgres@', `postgres://postgres:${PG_PASSWORD}@`);

  beforeAll(async () => {
    // A CA and a server certificate for 127.0.0.1, made by openssl.
    const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=agentq test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    ]);
    writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    ssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    ]);
    ssl([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.cnf',
      '-out',
      'server.pem',
    ]);
    tlsPort = await freePort();
    redis = await PrivateRedis.start([
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      join(dir, 'server.pem'),
      '--tls-key-file',
      join(dir, 'server.key'),
      '--tls-ca-cert-file',
      join(dir, 'ca.pem'),
      '--tls-auth-clients',
      'no',
    ]);
    // PrivateRedis pings without a password to know it is up: require one only afterwards.
    const setup = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await setup.config('SET', 'requirepass', REDIS_PASSWORD);
    setup.disconnect();
    pg = await createPgSchema();
    base = {
      REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`,
      AGENTQ_DB: `${pgWithPassword(PG_URL)}?schema=${pg.schema}`,
      AGENTQ_PREFIX: uniquePrefix('sec'),
      AGENTQ_TOKEN: TOKEN,
      AGENTQ_READONLY_TOKEN: READONLY_TOKEN,
    };
  });

  afterAll(async () => {
    await redis?.stop();
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('masks a password in every URL form, "@" and ":" in it included', () => {
    for (const url of [
      `redis://:${REDIS_PASSWORD}@h:1`,
      `redis://user:${REDIS_PASSWORD}@h:1/2`,
      `rediss://:${REDIS_PASSWORD}@h`,
      `redis://:${REDIS_PASSWORD}@with@at@h:1`,
      `redis://:${REDIS_PASSWORD}:colon@h:1`,
      `postgres://u:${PG_PASSWORD}@h/db?schema=x`,
    ]) {
      expect(mask(url)).not.toContain(REDIS_PASSWORD.slice(3));
      expect(mask(url)).not.toContain(PG_PASSWORD.slice(3));
      expect(mask(url)).toMatch(/\*\*\*@h/);
    }
  });

  it('runs status through a password URL, and prints no secret', async () => {
    const run = await agentq(['status', '--json'], base);
    expectNoSecret(run);
    expect([run.code, run.output]).toEqual([0, expect.stringContaining('{')]);
  });

  it.each([
    ['a wrong Redis password', { REDIS_URL: `redis://:${WRONG_REDIS_PASSWORD}@127.0.0.1:PORT` }],
    ['an unreachable Redis', { REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:1` }],
    ['a malformed Redis URL', { REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:notaport` }],
    [
      'a Redis URL with "@" in the password',
      { REDIS_URL: `redis://:${REDIS_PASSWORD}@x@127.0.0.1:1` },
    ],
    [
      'an unreachable PostgreSQL',
      { AGENTQ_DB: `postgres://postgres:${PG_PASSWORD}@127.0.0.1:1/test` },
    ],
    ['a malformed database URL', { AGENTQ_DB: `postgres://postgres:${PG_PASSWORD}@[bad/test` }],
    ['a read-only token equal to the admin token', { AGENTQ_READONLY_TOKEN: TOKEN }],
  ])('fails status with %s in one line holding no secret', async (_name, overrides) => {
    const env = Object.fromEntries(
      Object.entries({ ...base, ...overrides }).map(([k, v]) => [
        k,
        v.replace('PORT', String(redis.port)),
      ]),
    );
    const run = await agentq(['status'], env, { boundMs: 20_000 });
    expectNoSecret(run);
    expect(run.code === 1 || run.code === 2).toBe(true);
    expect(run.output.trim().length).toBeGreaterThan(0);
  });

  it('runs serve with a token and a password URL, and logs no secret', async () => {
    const port = await freePort();
    const run = await agentq(['serve', '--port', String(port)], base, {
      ready: async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
          headers: { authorization: `Bearer ${TOKEN}`, connection: 'close' },
        }).catch(() => null);
        return res?.status === 200;
      },
    });
    expectNoSecret(run);
    expect(run.output).toMatch(/listening on/);
    expect(run.code).toBe(0);
  });

  it('refuses serve on a wrong Redis password, and logs no secret', async () => {
    const run = await agentq(
      ['serve', '--port', String(await freePort())],
      {
        ...base,
        REDIS_URL: `redis://:${WRONG_REDIS_PASSWORD}@127.0.0.1:${redis.port}`,
      },
      { boundMs: 20_000 },
    );
    expectNoSecret(run);
    expect(run.code).not.toBe(0);
  });

  it('runs a worker through a password URL and stops it, logging no secret', async () => {
    const run = await agentq(['worker', '--capabilities', 'work', '--handlers', HANDLERS], base, {
      until: /serves work/,
    });
    expectNoSecret(run);
    expect(run.output).toMatch(/serves work/);
  });

  it('refuses a worker on a wrong Redis password, and logs no secret', async () => {
    const run = await agentq(
      ['worker', '--capabilities', 'work', '--handlers', HANDLERS],
      {
        ...base,
        REDIS_URL: `redis://:${WRONG_REDIS_PASSWORD}@127.0.0.1:${redis.port}`,
      },
      { until: /serves work/, boundMs: 20_000 },
    );
    expectNoSecret(run);
    expect(run.output).not.toMatch(/serves work/);
  });

  it('runs status through rediss:// with a self-signed certificate the user trusts', async () => {
    const run = await agentq(['status', '--json'], {
      ...base,
      REDIS_URL: `rediss://:${REDIS_PASSWORD}@127.0.0.1:${tlsPort}`,
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
    });
    expectNoSecret(run);
    expect([run.code, run.output]).toEqual([0, expect.stringContaining('{')]);
  });

  it('refuses rediss:// to a certificate nobody trusts, in one line holding no secret', async () => {
    const run = await agentq(
      ['status'],
      {
        ...base,
        REDIS_URL: `rediss://:${REDIS_PASSWORD}@127.0.0.1:${tlsPort}`,
      },
      { boundMs: 20_000 },
    );
    expectNoSecret(run);
    expect(run.code).toBe(1);
  });
});
