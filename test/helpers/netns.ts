/**
 * Several "hosts" on one machine for tests of what crosses a network: Linux network namespaces
 * joined by veth pairs to a bridge in the root namespace (the test runner's own host), on a
 * private /24. Needs root and iproute2 (`.ci/run` runs as root on the CI machine).
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

export interface Host {
  name: string;
  /** The host's address on the test network. */
  address: string;
}

export class TestNetwork {
  readonly hosts: Host[] = [];
  private readonly tag = randomBytes(2).toString('hex');
  private readonly bridge = `aqbr${this.tag}`;
  /** 10.<n>.<m>.0/24, from the random tag, so parallel runs do not collide. */
  private readonly subnet: string;

  private constructor() {
    const n = Number.parseInt(this.tag, 16);
    this.subnet = `10.${100 + (n % 100)}.${n >> 8}`;
  }

  /** The root namespace's address: where a host reaches the test runner. */
  get gateway(): string {
    return `${this.subnet}.1`;
  }

  static async available(): Promise<boolean> {
    if (process.getuid?.() !== 0) return false;
    try {
      await run('ip', ['netns', 'list']);
      return true;
    } catch {
      return false;
    }
  }

  static async create(hostCount: number): Promise<TestNetwork> {
    const network = new TestNetwork();
    try {
      await ip('link', 'add', network.bridge, 'type', 'bridge');
      await ip('addr', 'add', `${network.gateway}/24`, 'dev', network.bridge);
      await ip('link', 'set', network.bridge, 'up');
      for (let i = 0; i < hostCount; i += 1) await network.addHost(i);
    } catch (error) {
      await network.destroy();
      throw error;
    }
    return network;
  }

  private async addHost(index: number): Promise<void> {
    const name = `aq${this.tag}h${index}`;
    const address = `${this.subnet}.${index + 2}`;
    const outside = `aq${this.tag}v${index}`;
    await ip('netns', 'add', name);
    this.hosts.push({ name, address });
    await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name);
    await ip('link', 'set', outside, 'master', this.bridge);
    await ip('link', 'set', outside, 'up');
    await ip('-n', name, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', name, 'link', 'set', 'eth0', 'up');
    await ip('-n', name, 'link', 'set', 'lo', 'up');
  }

  /** Spawns `command` inside a host's namespace. */
  spawn(host: Host, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', host.name, command, ...args], options);
  }

  async exec(host: Host, command: string, args: string[]): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', host.name, command, ...args]);
    return stdout;
  }

  async destroy(): Promise<void> {
    for (const host of this.hosts) {
      await ip('netns', 'del', host.name).catch(() => undefined);
    }
    await ip('link', 'del', this.bridge).catch(() => undefined);
  }
}

/** A server a test started inside a host's namespace. */
export interface HostService {
  host: Host;
  port: number;
  stop(): Promise<void>;
}

/** Resolves once `address:port` accepts a TCP connection (from the root namespace, over the bridge). */
export async function waitForPort(
  address: string,
  port: number,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${address}:${port} did not open`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/** A private redis-server listening on the host's address (nothing saved to disk). */
export async function startHostRedis(
  network: TestNetwork,
  host: Host,
  port = 6379,
): Promise<HostService> {
  const child = network.spawn(
    host,
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      host.address,
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(host.address, port);
  return {
    host,
    port,
    async stop() {
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}

/** The newest PostgreSQL server binaries installed (`/usr/lib/postgresql/<major>/bin`). */
export function postgresBin(): string {
  const majors = readdirSync('/usr/lib/postgresql')
    .map(Number)
    .filter((n) => Number.isInteger(n))
    .sort((a, b) => b - a);
  if (majors.length === 0) throw new Error('no PostgreSQL server in /usr/lib/postgresql');
  return `/usr/lib/postgresql/${majors[0]}/bin`;
}

/**
 * A private PostgreSQL cluster (`initdb`, then `postgres`, both as the `postgres` user) listening
 * on the host's address, trusting the test network: database `postgres`, user `postgres`.
 */
export async function startHostPostgres(
  network: TestNetwork,
  host: Host,
  port = 5432,
): Promise<HostService> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'agentq-netns-pg-'));
  const data = join(dir, 'data');
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  chownSync(dir, uid, gid);
  await run('runuser', [
    '-u',
    'postgres',
    '--',
    `${bin}/initdb`,
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
  ]);
  const subnet = host.address.replace(/\.\d+$/, '.0/24');
  writeFileSync(join(data, 'pg_hba.conf'), `local all all trust\nhost all all ${subnet} trust\n`);
  const child = network.spawn(
    host,
    'runuser',
    [
      '-u',
      'postgres',
      '--',
      `${bin}/postgres`,
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      `listen_addresses=${host.address}`,
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'fsync=off',
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(host.address, port, 30_000);
  return {
    host,
    port,
    async stop() {
      // Immediate shutdown through pg_ctl: runuser does not pass every signal on.
      await run('runuser', [
        '-u',
        'postgres',
        '--',
        `${bin}/pg_ctl`,
        'stop',
        '-D',
        data,
        '-m',
        'immediate',
      ]).catch(() => child.kill('SIGKILL'));
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
