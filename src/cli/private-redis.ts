/**
 * Redis for commands that must work on a bare laptop (`demo`, `latency`, `bench`): the configured
 * server when it answers, otherwise a private `redis-server` on a free loopback port in a temp
 * directory, with persistence off, stopped and removed by `stop()`. When none answers and none is
 * installed, a `ConnectionError` says in one line how to get it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { parseRedisUrl, type RedisConfig } from '../config';
import { ConnectionError } from '../errors';
import { cannotConnectMessage } from '../queues/connection';

export interface RedisForCommand {
  /** The server to use: the configured one, or the private one. */
  config: RedisConfig;
  /** True when we started it. */
  isPrivate: boolean;
  /** Stops a private server and removes its directory; does nothing for the configured one. */
  stop(): Promise<void>;
}

export interface EnsureRedisOptions {
  /** Where to look for `redis-server`. @defaultValue process.env.PATH */
  searchPath?: string;
  /** Start a private server even when the configured one answers (tests). @defaultValue false */
  forcePrivate?: boolean;
  /** Told one line when a private server starts. @defaultValue no output */
  log?: (line: string) => void;
  /** How long the configured server gets to answer PING. @defaultValue 1000 */
  probeTimeoutMs?: number;
}

export const INSTALL_HINT =
  'Install Redis: apt-get install redis-server (Debian/Ubuntu) or brew install redis (macOS).';

// A fresh redis-server answers within milliseconds; 10 s covers a loaded CI machine.
const START_TIMEOUT_MS = 10_000;

export async function ensureRedis(
  configured: RedisConfig,
  options: EnsureRedisOptions = {},
): Promise<RedisForCommand> {
  if (!options.forcePrivate && (await answersPing(configured, options.probeTimeoutMs ?? 1000))) {
    return { config: configured, isPrivate: false, stop: async () => undefined };
  }
  const binary = findOnPath('redis-server', options.searchPath ?? process.env.PATH ?? '');
  if (!binary) {
    throw new ConnectionError(`${cannotConnectMessage(configured)} ${INSTALL_HINT}`);
  }
  return startPrivateRedis(binary, options.log ?? (() => undefined));
}

async function answersPing(config: RedisConfig, timeoutMs: number): Promise<boolean> {
  if (config.clusterNodes) return true; // a cluster is never replaced by a private server
  // A refused TCP connect is the usual "nothing there"; checking it first leaves no ioredis
  // connect timer pending in the process.
  if (!(await acceptsTcp(config.host, config.port, timeoutMs))) return false;
  const client = new Redis(config.url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function acceptsTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function findOnPath(name: string, searchPath: string): string | null {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startPrivateRedis(
  binary: string,
  log: (line: string) => void,
): Promise<RedisForCommand> {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-redis-'));
  const port = await freePort();
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { cwd: dir, stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const config = parseRedisUrl(`redis://127.0.0.1:${port}`);
  const stop = async () => {
    await stopChild(child, exited);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answersPing(config, 500))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new ConnectionError(`a private redis-server (${binary}) did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  log(`No Redis answered; started a private redis-server on 127.0.0.1:${port} (stopped at exit).`);
  return { config, isPrivate: true, stop };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}
