/**
 * The subscriber process of bench/mirror-lag.ts: a plain ioredis client on `<prefix>/tasks:*`
 * that notes when each seq arrived (high-resolution epoch ms). argv: redis url, channel prefix.
 * Says `ready` over IPC; on `report` sends `{ seqs, times }` and exits.
 */
import { Redis } from 'ioredis';

async function main(): Promise<void> {
  const [url, channelPrefix] = process.argv.slice(2);
  const subscriber = new Redis(url ?? 'redis://127.0.0.1:6379');
  subscriber.on('error', () => undefined);
  // Subscribing before ioredis' ready check ends breaks the check.
  await new Promise((resolve) => subscriber.once('ready', resolve));
  const seqs: number[] = [];
  const times: number[] = [];
  subscriber.on('pmessage', (_pattern, _channel, raw) => {
    times.push(performance.timeOrigin + performance.now());
    seqs.push((JSON.parse(raw) as { seq: number }).seq);
  });
  await subscriber.psubscribe(`${channelPrefix ?? ''}tasks:*`);
  process.on('message', (message) => {
    if (message !== 'report') return;
    process.send?.({ seqs, times }, () => {
      void subscriber.quit().finally(() => process.exit(0));
    });
  });
  process.send?.('ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
