/**
 * `demo`, `latency` and `bench` run the checkout's own TypeScript (examples/, bench/) in a child
 * Node process through the checkout's tsx (a development dependency): those files are not part
 * of the package, and the bench needs a process of its own anyway. Standard streams are
 * inherited; the exit code is returned.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectionError } from '../errors';

/** The checkout's root: two levels above src/cli (or dist/cli). */
export const CHECKOUT_ROOT = join(__dirname, '..', '..');

function checkoutTsx(relativePath: string): string {
  try {
    return require.resolve('tsx/cjs', { paths: [CHECKOUT_ROOT] });
  } catch {
    throw new ConnectionError(
      `${relativePath} runs through tsx, which is not installed: run npm install in the checkout`,
    );
  }
}

export async function runCheckoutScript(relativePath: string, args: string[]): Promise<number> {
  const script = join(CHECKOUT_ROOT, relativePath);
  if (!existsSync(script)) {
    throw new ConnectionError(`${relativePath} is not here: this command needs an agentq checkout`);
  }
  const child = spawn(process.execPath, ['--require', checkoutTsx(relativePath), script, ...args], {
    stdio: 'inherit',
  });
  // Ctrl-C reaches the child through the terminal's process group: we wait for it to clean up
  // rather than die first. A SIGTERM sent to this process alone is passed on to it.
  const ignore = () => undefined;
  const forward = () => child.kill('SIGTERM');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  return new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  }).finally(() => {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', forward);
  });
}
