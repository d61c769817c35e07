/**
 * What a command works with, built from the global options (`--redis`, `--db`, `--prefix`,
 * `--json`) over the environment: the configuration, the task registry and the Redis
 * coordinator. Before any work it checks that Redis and the database answer, so a command fails
 * within 5 s with "Cannot connect to …" and the fix instead of hanging. Built by the composition
 * root (system/compose.ts) and released in reverse order whatever happened.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig, mask, type AgentqConfig, type DbConfig } from '../config';
import type { TaskRegistry } from '../entities/task-registry';
import { ConnectionError } from '../errors';
import { mirrorIsRunning } from '../mirror/mirror-lock';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import { acquireCore } from '../system/core';
import { withReleasers } from '../system/releasers';
import { createOutput, type Output } from './output';

export interface GlobalOptions {
  redis?: string;
  db?: string;
  prefix?: string;
  json?: boolean;
}

export interface CliContext {
  config: Readonly<AgentqConfig>;
  registry: TaskRegistry;
  coordinator: RedisCoordinator;
  out: Output;
  /** `cli:<user>`, the audit actor of mutations from this command. */
  actor: string;
}

export interface ContextNeeds {
  /** Check Redis before work. @defaultValue true */
  redis?: boolean;
  /** Open the database (and run pending migrations) before work. @defaultValue true */
  db?: boolean;
  /** `worker` connections retry forever (watch/follow modes). @defaultValue 'command' */
  role?: 'worker' | 'command';
  /**
   * The command shows state read from SQL: without a live mirror anywhere (no leader lock in
   * Redis) SQL stops following Redis, so one warning line on stderr says so, after the answer.
   * @defaultValue false
   */
  readsSql?: boolean;
  /**
   * Say on stderr what the process's shared services (mirror candidate, internal workers) do:
   * for long-running commands that run them (`worker`). @defaultValue false
   */
  log?: boolean;
}

/** What a read command prints on stderr when no mirror runs in the deployment. */
export const NO_MIRROR_WARNING =
  'warning: no mirror is running (start `agentq serve` or `agentq worker`): ' +
  'state read from SQL may be behind Redis';

/** Connect timeout for one-shot commands: they say they cannot connect within 5 s. */
const REACH_TIMEOUT_MS = 4000;

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

export function configFrom(options: GlobalOptions): Readonly<AgentqConfig> {
  return loadConfig({
    REDIS_URL: options.redis,
    AGENTQ_DB: options.db,
    AGENTQ_PREFIX: options.prefix,
  });
}

/** Builds the context, runs `work`, and closes everything whatever happened. */
export async function withContext<T>(
  command: Command,
  needs: ContextNeeds,
  work: (ctx: CliContext) => Promise<T>,
): Promise<T> {
  const options = globalOptions(command);
  const config = configFrom(options);
  return withReleasers(async (releasers) => {
    // Goals submitted and tasks run by this command are traced when an OTLP endpoint is set.
    const { registry, coordinator } = acquireCore(releasers, {
      config,
      role: needs.role ?? 'command',
      serviceName: 'agentq-cli',
      ...(needs.log ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    });
    const ctx: CliContext = {
      config,
      registry,
      coordinator,
      out: createOutput(options.json === true),
      actor: `cli:${currentUser()}`,
    };
    // Long-running commands wait for Redis (having said within 2 s that it does not answer).
    if (needs.redis ?? true)
      await (needs.role === 'worker'
        ? coordinator.untilReachable()
        : coordinator.assertReachable(REACH_TIMEOUT_MS));
    if (needs.db ?? true) await openDatabase(registry, config.db);
    const result = await work(ctx);
    // After the answer, and only with one: an error stays the one line it is.
    if (needs.readsSql && !(await mirrorIsRunning(coordinator))) ctx.out.warn(NO_MIRROR_WARNING);
    return result;
  });
}

async function openDatabase(registry: TaskRegistry, db: DbConfig): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), REACH_TIMEOUT_MS);
  });
  try {
    await Promise.race([registry.open(), timeout]);
  } catch (error) {
    throw new ConnectionError(cannotOpenDatabaseMessage(db, error), { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** The database twin of `cannotConnectMessage`. */
export function cannotOpenDatabaseMessage(db: DbConfig, error: unknown): string {
  const why = error instanceof Error ? error.message : String(error);
  switch (db.backend) {
    case 'postgres':
      return (
        `Cannot connect to the database at ${mask(db.url)} (${why}). ` +
        'Start PostgreSQL (sudo systemctl start postgresql) or point AGENTQ_DB / --db at a running server.'
      );
    case 'sqlite':
      return `Cannot open the SQLite database at ${db.path} (${why}). Check that the directory is writable, or point AGENTQ_DB / --db elsewhere.`;
    case 'json':
      return `Cannot open the JSON task store in ${db.dir} (${why}). Check that the directory is writable, or point AGENTQ_DB / --db elsewhere.`;
  }
}

function currentUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
