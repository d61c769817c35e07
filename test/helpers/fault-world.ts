/**
 * The fault tests' world: a PRIVATE redis-server (the tests kill, pause, wipe and fill it), a
 * SQLite registry in a temp dir, the mirror and the internal workers (gates, goal roots,
 * reconciler) in the test process, a supervisor, and agents as child processes
 * (fault-agent.ts) whose handler runs are recorded in a file. `cli()` runs the real `agentq`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { isGoalOpen, type GoalState, type TaskEventRecord } from '../../src/entities/task-model';
import { TaskRegistry } from '../../src/entities/task-registry';
import { startInternalWorkers, type InternalWorkers } from '../../src/queues/internal-workers';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import type { FaultAgentConfig, FaultRecord } from './fault-agent';
import { PrivateRedis } from './redis-server';
import { uniquePrefix } from './servers';
import { waitFor } from './wait-for';

const ROOT = resolve(__dirname, '../..');

export interface FaultAgent {
  id: string;
  child: ChildProcess;
  output(): string;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface FaultWorldOptions {
  /** Extra redis-server arguments (`--appendonly yes`, `--maxmemory 4mb`, …). */
  redisArgs?: string[];
  /** Start the mirror and the internal workers here. @defaultValue true */
  services?: boolean;
  /** The mirror publishes on the channels (its pub/sub bridge). @defaultValue false */
  bridge?: boolean;
  /** In front of every pub/sub channel. @defaultValue '' */
  channelPrefix?: string;
}

export class FaultWorld {
  readonly prefix = uniquePrefix('fault');
  readonly dir = mkdtempSync(join(tmpdir(), 'agentq-fault-'));
  readonly dbPath = join(this.dir, 'agentq.db');
  readonly recordFile = join(this.dir, 'records.jsonl');
  readonly registry = new TaskRegistry({ backend: 'sqlite', path: this.dbPath });
  readonly coordinator: RedisCoordinator;
  readonly supervisor: SupervisorAgent;
  private readonly agents: FaultAgent[] = [];
  private mirror: MirrorHandle | null = null;
  private internal: InternalWorkers | null = null;
  readonly logs: string[] = [];

  private constructor(
    readonly redis: PrivateRedis,
    private readonly bridge: boolean,
    channelPrefix = '',
  ) {
    this.coordinator = new RedisCoordinator({
      url: redis.url,
      prefix: this.prefix,
      channelPrefix,
      onError: () => undefined,
    });
    this.supervisor = new SupervisorAgent(this.registry, this.coordinator, {});
  }

  static async start(options: FaultWorldOptions = {}): Promise<FaultWorld> {
    const redis = await PrivateRedis.start(options.redisArgs ?? []);
    const world = new FaultWorld(redis, options.bridge ?? false, options.channelPrefix);
    await world.registry.open();
    if (options.services ?? true) world.startServices();
    return world;
  }

  /** The mirror (SQL) and the internal workers, as `agentq serve` runs them. */
  startServices(): void {
    this.mirror = startMirror({
      store: this.registry,
      coordinator: this.coordinator,
      onLog: (line) => this.logs.push(line),
      bridge: this.bridge,
    });
    this.internal = startInternalWorkers(this.coordinator, {
      reconcileIntervalMs: 1000,
      onError: (e) => this.logs.push(`internal: ${e.message}`),
    });
  }

  /** Stops the mirror and the internal workers (`agentq serve` going down). */
  async stopServices(): Promise<void> {
    await this.internal?.close();
    await this.mirror?.close();
    this.internal = null;
    this.mirror = null;
  }

  async startAgent(
    id: string,
    capabilities: string[],
    extra: Partial<FaultAgentConfig> = {},
  ): Promise<FaultAgent> {
    const config: FaultAgentConfig = {
      url: this.redis.url,
      prefix: this.prefix,
      agentId: id,
      capabilities,
      recordFile: this.recordFile,
      ...extra,
    };
    const child = spawn(
      process.execPath,
      ['-r', 'tsx/cjs', join(__dirname, 'fault-agent.ts'), JSON.stringify(config)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const agent: FaultAgent = { id, child, output: () => out };
    this.agents.push(agent);
    await waitFor(
      `agent ${id} ready`,
      () => {
        if (child.exitCode !== null) throw new Error(`agent ${id} exited: ${out}`);
        return out.includes('ready');
      },
      { timeoutMs: 30000 },
    );
    return agent;
  }

  /** Every handler start/end/abort so far, in file order. */
  records(): FaultRecord[] {
    if (!existsSync(this.recordFile)) return [];
    return readFileSync(this.recordFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as FaultRecord);
  }

  /** Runs `agentq <args>` against this world (real process), bounded by `timeoutMs`. */
  cli(args: string[], timeoutMs = 30000): Promise<CliResult> {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'dist/cli/bin.js'),
        '--redis',
        this.redis.url,
        '--db',
        `sqlite:${this.dbPath}`,
        '--prefix',
        this.prefix,
        ...args,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((done, fail) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`agentq ${args.join(' ')} ran past ${timeoutMs} ms: ${stdout}${stderr}`));
      }, timeoutMs);
      child.once('close', (code) => {
        clearTimeout(timer);
        done({ code, stdout, stderr });
      });
    });
  }

  async goalState(goalId: string): Promise<GoalState | null> {
    return (await this.registry.getGoal(goalId))?.state ?? null;
  }

  /** Waits until SQL records the goal as ended; returns its state. */
  async goalEnd(goalId: string, timeoutMs = 45000): Promise<GoalState> {
    return waitFor(
      `goal ${goalId} to end in SQL`,
      async () => {
        const state = await this.goalState(goalId);
        return state && !isGoalOpen(state) ? state : null;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Every audit-log event of the goal, in seq order. */
  async events(goalId: string): Promise<TaskEventRecord[]> {
    const out: TaskEventRecord[] = [];
    for (let after = 0; ;) {
      const page = await this.registry.eventsAfter(after, 1000);
      out.push(...page.filter((e) => e.goalId === goalId));
      if (page.length < 1000) return out;
      after = page[page.length - 1]!.seq;
    }
  }

  async stopAgent(agent: FaultAgent, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (agent.child.exitCode !== null || agent.child.signalCode !== null) return;
    const closed = new Promise((done) => agent.child.once('close', done));
    agent.child.kill(signal);
    await closed;
  }

  async close(): Promise<void> {
    // Redis may be paused or dead when a test fails: make it answer so everything closes.
    this.redis.signal('SIGCONT');
    await Promise.all(this.agents.map((a) => this.stopAgent(a, 'SIGKILL')));
    await this.internal?.close();
    await this.mirror?.close();
    await this.supervisor.close();
    await this.coordinator.close();
    await this.registry.close();
    await this.redis.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
