import { taskPayload } from '../../src/mirror/channel-payload';
import type { TaskEventRecord } from '../../src/entities/task-model';

const event = (name: 'new' | 'claimed'): TaskEventRecord => ({
  seq: 7,
  taskId: 'g.child',
  goalId: 'g',
  event: name,
  fromState: name === 'new' ? null : 'PENDING',
  toState: name === 'new' ? 'PENDING' : 'ASSIGNED',
  attempt: name === 'new' ? 0 : 1,
  agentId: null,
  actor: null,
  at: new Date(Date.UTC(2025, 0, 1)),
  detail: null,
});

describe('tasks:new payload spawnedBy', () => {
  it('names the spawning task on `new` only, and is absent for tasks nothing spawned', () => {
    const spawned = { key: 'child', type: 'dev', spawnedBy: 'g.parent' };
    expect(taskPayload(event('new'), spawned).spawnedBy).toBe('g.parent');
    expect(taskPayload(event('claimed'), spawned)).not.toHaveProperty('spawnedBy');
    expect(
      taskPayload(event('new'), { key: 'child', type: 'dev', spawnedBy: null }),
    ).not.toHaveProperty('spawnedBy');
  });
});
