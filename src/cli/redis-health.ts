/**
 * For long-running commands (`worker`, `serve`, `status --watch`, `events --follow`): they keep
 * retrying when Redis goes away. This prints one warning when a connection goes down and one
 * line when it is back, instead of a stream of errors or silence.
 */
import type { RedisConfig } from '../config';
import { cannotConnectMessage, type RedisConnection } from '../queues/connection';

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
  connection: RedisConnection,
  config: RedisConfig,
  options: RedisHealthOptions = {},
): RedisHealthWatch {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  let down = false;
  const onError = () => {
    if (down) return;
    down = true;
    write(`warning: ${cannotConnectMessage(config)} Retrying…`);
  };
  const onReady = () => {
    if (!down) return;
    down = false;
    write(`Redis at ${config.host}:${config.port} is back.`);
  };
  connection.on('error', onError);
  connection.on('ready', onReady);
  return {
    get down() {
      return down;
    },
    stop: () => {
      connection.off('error', onError);
      connection.off('ready', onReady);
    },
  };
}
