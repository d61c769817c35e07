/**
 * The built agentq command as a user runs it: `node dist/cli/bin.js …` directly (no shell between),
 * stdin closed, stdout and stderr collected (neither is a TTY). jest's global setup keeps dist/
 * current.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const AGENTQ_BIN = join(__dirname, '..', '..', 'dist', 'cli', 'bin.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runAgentq(args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AGENTQ_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
