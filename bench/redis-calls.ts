/**
 * Counts the Redis commands this process sends (every ioredis connection: the agent's, BullMQ's,
 * the mirror's), MONITOR-free and unaffected by other clients of a shared Redis. A pipelined or
 * MULTI command counts once each; a Lua script counts once (its EVALSHA), not the commands it runs.
 */
import { Redis } from 'ioredis';

let sent = 0;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const original = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function counted(this: Redis, ...args) {
    sent++;
    return original.apply(this, args);
  } as typeof original;
}

/** Starts counting; `read()` gives the commands sent since. */
export function countRedisCalls(): { read(): number } {
  install();
  const start = sent;
  return { read: () => sent - start };
}
