/** Starts `agent-process.ts` in a child process and waits for it to say `ready`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { AgentProcessConfig } from './agent-process';
import { waitFor } from './wait-for';

export interface AgentChild {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export async function spawnAgent(
  config: AgentProcessConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgentChild> {
  const script = resolve(__dirname, 'agent-process.ts');
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', script, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  await waitFor(`agent ${config.agentId} ready (output: ${out})`, () => {
    if (child.exitCode !== null) throw new Error(`agent exited: ${out}`);
    return out.includes('ready');
  });
  return { child, output: () => out, exited };
}
