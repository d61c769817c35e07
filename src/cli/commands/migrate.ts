/** `agentq migrate`: runs the task store's pending migrations (opening the store does it). */
import type { Command } from 'commander';
import { withContext } from '../context';

export function register(program: Command): void {
  program
    .command('migrate')
    .description('create or upgrade the task store schema')
    .action((_options: unknown, command: Command) =>
      withContext(command, { redis: false, db: true }, async ({ registry, out }) => {
        // withContext opened the store, which runs every pending migration in one go.
        if (out.json) out.printJson({ backend: registry.backend, migrated: true });
        else out.print(`The ${registry.backend} task store is up to date.`);
      }),
    );
}
