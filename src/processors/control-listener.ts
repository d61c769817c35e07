/**
 * Every agent subscribes to the control channel: `agentq task cancel`, the API and the
 * supervisor publish `{ op: 'cancel', taskIds, actor }` there, from any process, and the agent
 * running one of those tasks aborts its signal at once.
 */
import { CONTROL_CHANNEL, type ControlMessage } from '../queues/protocol';
import type { RedisCoordinator } from '../queues/redis-coordinator';

export interface ControlListener {
  close(): Promise<void>;
}

function parseControlMessage(raw: string): ControlMessage | null {
  try {
    const message = JSON.parse(raw) as Partial<ControlMessage>;
    if (message.op !== 'cancel' || !Array.isArray(message.taskIds)) return null;
    const taskIds = message.taskIds.filter((id): id is string => typeof id === 'string');
    return {
      op: 'cancel',
      taskIds,
      actor: typeof message.actor === 'string' ? message.actor : null,
    };
  } catch {
    return null;
  }
}

export async function listenForControl(
  coordinator: RedisCoordinator,
  onMessage: (message: ControlMessage) => void,
): Promise<ControlListener> {
  const subscriber = coordinator.duplicate('worker');
  const channel = coordinator.channel(CONTROL_CHANNEL);
  subscriber.on('message', (from: string, raw: string) => {
    if (from !== channel) return;
    const message = parseControlMessage(raw);
    if (message) onMessage(message);
  });
  await subscriber.subscribe(channel);
  return {
    close: async () => {
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
