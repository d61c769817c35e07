/**
 * `ctx.spawn` in a sandbox child: the child asks its parent, which spawns (it holds the Redis
 * connection and the job) and answers. The request rides BullMQ's own child protocol — a
 * `getDependencies` request, which the parent answers with whatever its job's getDependencies
 * returns — and the parent's job intercepts it (sandboxed-executor.ts). The child waits for the
 * answer itself, without BullMQ's response timeout (500 ms under NODE_ENV=test): a spawn of many
 * tasks on a busy Redis may take longer.
 */
import { randomBytes } from 'node:crypto';
import { ParentCommand } from 'bullmq';
import { AgentqError, ConflictError, InputError } from '../errors';
import type { SpawnedTask } from '../queues/spawn';
import type { SpawnTaskSpec } from './handler-types';

export interface SpawnRequest {
  agentqSpawn: readonly SpawnTaskSpec[];
}

type SpawnAnswer =
  | { agentqSpawned: SpawnedTask[] }
  | { agentqSpawnError: { name: string; message: string; field?: string; code?: string } };

export function isSpawnRequest(value: unknown): value is SpawnRequest {
  return typeof value === 'object' && value !== null && 'agentqSpawn' in value;
}

/** The parent's answer to a request: the spawned tasks, or the error to throw in the child. */
export async function answerSpawn(
  request: SpawnRequest,
  spawn: (tasks: readonly SpawnTaskSpec[]) => Promise<SpawnedTask[]>,
): Promise<SpawnAnswer> {
  try {
    return { agentqSpawned: await spawn(request.agentqSpawn) };
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const field = error instanceof InputError ? error.field : undefined;
    const message =
      field && error.message.startsWith(`${field}: `)
        ? error.message.slice(field.length + 2)
        : error.message;
    return {
      agentqSpawnError: {
        name: error.name,
        message,
        ...(field ? { field } : {}),
        ...(error instanceof AgentqError ? { code: error.code } : {}),
      },
    };
  }
}

function errorOf(e: { name: string; message: string; field?: string; code?: string }): Error {
  if (e.name === 'InputError') return new InputError(e.message, e.field, e.code);
  if (e.name === 'ConflictError') return new ConflictError(e.message);
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}

/** The child's side: sends the request on the IPC channel and waits for its answer. */
export function requestSpawnFromParent(tasks: readonly SpawnTaskSpec[]): Promise<SpawnedTask[]> {
  if (!process.send) {
    return Promise.reject(new Error('ctx.spawn: this attempt has no agent to spawn through'));
  }
  const requestId = `agentq-spawn-${randomBytes(8).toString('hex')}`;
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      const m = message as { requestId?: string; value?: SpawnAnswer };
      if (m?.requestId !== requestId) return;
      process.off('message', onMessage);
      const answer = m.value;
      if (answer && 'agentqSpawned' in answer) resolve(answer.agentqSpawned);
      else if (answer && 'agentqSpawnError' in answer) reject(errorOf(answer.agentqSpawnError));
      else reject(new Error('ctx.spawn: the agent sent no answer'));
    };
    process.on('message', onMessage);
    const request: SpawnRequest = { agentqSpawn: tasks };
    process.send!(
      { requestId, cmd: ParentCommand.GetDependencies, value: request },
      (error: Error | null) => {
        if (!error) return;
        process.off('message', onMessage);
        reject(error);
      },
    );
  });
}
