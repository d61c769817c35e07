/**
 * For long-running commands (`worker`, `serve`, `status --watch`, `events --follow`): they keep
 * retrying when Redis goes away. The coordinator's `health` owns the one warning when Redis is
 * lost (or cannot be reached at start) and the one line when it is back, across every
 * connection, queue and worker of the process; this sends those lines where the command writes
 * (a timestamped log line in `serve`, say) instead of bare stderr.
 */
import type { RedisCoordinator } from '../queues/redis-coordinator';

export interface RedisHealthOptions {
  /** Where the lines go. @defaultValue a line on stderr */
  write?: (line: string) => void;
}

export interface RedisHealthWatch {
  /** True between a warning and the line saying Redis is back. */
  readonly down: boolean;
  stop(): void;
}

export function watchRedisHealth(
  coordinator: RedisCoordinator,
  options: RedisHealthOptions = {},
): RedisHealthWatch {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const restore = coordinator.health.setWriter(write);
  return {
    get down() {
      return coordinator.health.state === 'down';
    },
    stop: restore,
  };
}
