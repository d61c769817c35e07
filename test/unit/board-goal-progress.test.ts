import { NO_METRICS } from '../../src/entities/apply-changes';
import { goalProgress } from '../../src/board/pages/goal-progress';
import type { AgentInfo, TaskRecord } from '../../src/entities/task-model';
import type { TaskState } from '../../src/entities/task-state';

function task(key: string, state: TaskState, type = 'dev'): TaskRecord {
  const at = new Date(0);
  return {
    id: `g-1.${key}`,
    goalId: 'g-1',
    key,
    title: key,
    description: '',
    type,
    priority: 5,
    data: {},
    dependsOn: [],
    attempts: 3,
    timeoutMs: 1000,
    optional: false,
    state,
    attempt: 0,
    epoch: 0,
    agentId: null,
    progress: null,
    result: null,
    error: null,
    createdAt: at,
    updatedAt: at,
    spawnedBy: null,
    addedBy: null,
    deferredAt: null,
    ...NO_METRICS,
  };
}

const devAgent: AgentInfo = {
  id: 'a1',
  capabilities: ['dev'],
  host: 'h',
  pid: 1,
  startedAt: new Date(0),
  lastSeenAt: new Date(0),
  running: [],
  concurrency: 1,
  breakers: {},
};

describe('goalProgress', () => {
  it('counts done tasks out of all', () => {
    const tasks = [task('a', 'DONE'), task('b', 'FAILED'), task('c', 'PENDING')];
    expect(goalProgress({ state: 'ACTIVE' }, tasks, [devAgent])).toEqual({
      done: 1,
      total: 3,
      stuck: [],
    });
  });

  it('flags a PENDING task no live agent serves, once per capability', () => {
    const tasks = [task('a', 'PENDING', 'gpu'), task('b', 'PENDING', 'gpu')];
    expect(goalProgress({ state: 'ACTIVE' }, tasks, [devAgent]).stuck).toEqual([
      "no live agent serves 'gpu'",
    ]);
  });

  it('flags a paused goal', () => {
    expect(goalProgress({ state: 'PAUSED' }, [], []).stuck).toEqual(['goal is paused']);
  });

  it('does not flag a BACKLOG task: it waits on its dependencies', () => {
    expect(goalProgress({ state: 'ACTIVE' }, [task('a', 'BACKLOG', 'gpu')], []).stuck).toEqual([]);
  });
});
