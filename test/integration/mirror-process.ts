/**
 * A mirror candidate in its own process, for the crash and takeover tests:
 * `node -r tsx/cjs mirror-process.ts <sqlite path> <prefix> <channel prefix>`. Prints one line per
 * mirror log line on stdout (`leading`, reconciles) and runs until it is killed or gets SIGTERM.
 */
import { TaskRegistry } from '../../src/entities/task-registry';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { startMirror } from '../../src/mirror/mirror';
import { REDIS_URL } from '../helpers/servers';

async function main(): Promise<void> {
  const [path, prefix, channelPrefix] = process.argv.slice(2);
  if (!path || !prefix)
    throw new Error('usage: mirror-process.ts <sqlite path> <prefix> [channel prefix]');
  const store = new TaskRegistry({ backend: 'sqlite', path });
  const coordinator = new RedisCoordinator({
    url: REDIS_URL,
    prefix,
    channelPrefix: channelPrefix ?? '',
  });
  await store.open();
  const mirror = startMirror({
    store,
    coordinator,
    onLog: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write('candidate started\n');
  process.once('SIGTERM', () => {
    void (async () => {
      await mirror.close();
      await coordinator.close();
      await store.close();
      process.exit(0);
    })();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
