/**
 * A private 3-master Redis Cluster on free ports (redis-server in cluster mode, joined with
 * `redis-cli --cluster create`), for the tests that must pass on a cluster (issue 8).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freePort } from './redis-server';

const run = promisify(execFile);

export class PrivateRedisCluster {
  private readonly children: ChildProcess[] = [];
  private constructor(
    readonly ports: number[],
    readonly dir: string,
    private readonly shared: boolean,
  ) {}

  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` — the form REDIS_URL accepts. */
  get url(): string {
    return `redis+cluster://${this.ports.map((port) => `127.0.0.1:${port}`).join(',')}`;
  }

  /** `shared`: started once for a whole test run (Jest global setup) rather than by one file. */
  static async start(masters = 3, shared = false): Promise<PrivateRedisCluster> {
    const ports: number[] = [];
    while (ports.length < masters) {
      const port = await freePort();
      // The cluster bus listens on port + 10000: both must be free and below 65536.
      if (port < 55000 && !ports.includes(port)) ports.push(port);
    }
    const dir = mkdtempSync(join(tmpdir(), 'agentq-cluster-'));
    const cluster = new PrivateRedisCluster(ports, dir, shared);
    try {
      await cluster.launch();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private async launch(): Promise<void> {
    for (const port of this.ports) {
      const dir = join(this.dir, String(port));
      mkdirSync(dir);
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ],
        { stdio: 'ignore' },
      );
      // Unreferenced: a cluster started by Jest's global setup outlives every test file, and
      // must not count as a process a test file left open (the leak guard).
      if (this.shared) child.unref();
      this.children.push(child);
    }
    await Promise.all(this.ports.map((port) => waitForPing(port)));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...this.ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await this.waitForSlots();
  }

  /** `cluster_state:ok` on every node: all 16384 slots served and agreed. */
  private async waitForSlots(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(
        this.ports.map(async (port) => {
          const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
          return /cluster_state:ok/.test(stdout);
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('the test Redis Cluster did not become ready');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
}

/** The servers to SCAN: every master of a cluster, or the one server. */
function nodesOf(client: Redis | Cluster): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Every key matching `pattern`, on a single server or on every master of a cluster. */
export async function keysMatching(client: Redis | Cluster, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of nodesOf(client)) {
    for await (const batch of node.scanStream({ match: pattern, count: 1000 })) {
      keys.push(...(batch as string[]));
    }
  }
  return keys;
}

/**
 * Deletes every key matching `pattern` on a single server or on every master of a cluster (SCAN
 * runs per node there; `scanStream` and `KEYS` on a Cluster client see one node only). Each node
 * unlinks its own keys one by one: a cluster refuses multi-key commands across slots.
 */
export async function deleteKeysMatching(client: Redis | Cluster, pattern: string): Promise<void> {
  for (const node of nodesOf(client)) {
    for await (const batch of node.scanStream({ match: pattern, count: 1000 })) {
      const keys = batch as string[];
      if (keys.length === 0) continue;
      const pipeline = node.pipeline();
      for (const key of keys) pipeline.unlink(key);
      await pipeline.exec();
    }
  }
}
