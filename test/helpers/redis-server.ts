/**
 * A private redis-server on a free port in a temporary directory, for tests that restart, pause,
 * kill or reconfigure Redis (never done to the shared server on 6379).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export async function freePort(): Promise<number> {
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

export class PrivateRedis {
  private child: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'agentq-redis-'));

  private constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts redis-server with `args` added (for example `['--appendonly', 'yes']`), on `port`
   * when given (a port a process under test already tries), else on a free one.
   */
  static async start(args: string[] = [], port?: number): Promise<PrivateRedis> {
    const redis = new PrivateRedis(port ?? (await freePort()), args);
    await redis.startProcess();
    return redis;
  }

  async startProcess(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        ...this.args,
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    await this.waitForPing();
  }

  private async waitForPing(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = new Redis(this.url, {
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

  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT) to the server process. */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async stopProcess(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async stop(): Promise<void> {
    await this.stopProcess('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
