import { NO_METRICS } from '../../src/entities/apply-changes';
import { describeStuckReason, diagnoseTask } from '../../src/interface/interface-diagnosis';
import type { AgentInfo, TaskRecord } from '../../src/entities/task-model';
import type { TaskState } from '../../src/entities/task-state';

function task(state: TaskState, dependsOn: string[] = []): TaskRecord {
  const at = new Date(0);
  return {
    id: 'g-1.build',
    goalId: 'g-1',
    key: 'build',
    title: 'Build',
    description: '',
    type: 'dev',
    priority: 5,
    data: {},
    dependsOn,
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

function agent(id: string, capabilities: string[], breaker?: 'open' | 'closed'): AgentInfo {
  return {
    id,
    capabilities,
    host: 'h',
    pid: 1,
    startedAt: new Date(0),
    lastSeenAt: new Date(0),
    running: [],
    concurrency: 1,
    breakers: breaker ? Object.fromEntries(capabilities.map((c) => [c, breaker])) : {},
  };
}

const none = new Set<string>();

describe('why a task is not being claimed', () => {
  it('says no live agent serves the capability', () => {
    const reason = diagnoseTask(task('PENDING'), {
      agents: [agent('a', ['qa'])],
      pausedQueues: none,
    });
    expect(reason).toEqual({ kind: 'no-agent', capability: 'dev' });
    expect(describeStuckReason(reason!)).toBe("no live agent serves 'dev'");
  });

  it('says the queue is paused before anything else', () => {
    const reason = diagnoseTask(task('PENDING'), {
      agents: [],
      pausedQueues: new Set(['dev']),
    });
    expect(reason?.kind).toBe('paused');
  });

  it('says every serving agent has its breaker open, naming them', () => {
    const reason = diagnoseTask(task('PENDING'), {
      agents: [agent('a', ['dev'], 'open'), agent('b', ['dev'], 'open')],
      pausedQueues: none,
    });
    expect(reason).toEqual({ kind: 'breakers-open', capability: 'dev', agents: ['a', 'b'] });
  });

  it('finds nothing wrong when one serving agent has a closed breaker', () => {
    const agents = [agent('a', ['dev'], 'open'), agent('b', ['dev'], 'closed')];
    expect(diagnoseTask(task('PENDING'), { agents, pausedQueues: none })).toBeNull();
  });

  it('names the dependencies a backlog task waits on, with their states', () => {
    const reason = diagnoseTask(task('BACKLOG', ['design', 'schema', 'gone']), {
      agents: [agent('a', ['dev'])],
      pausedQueues: none,
      dependencyStates: new Map<string, TaskState>([
        ['design', 'DONE'],
        ['schema', 'ACTIVE'],
      ]),
    });
    expect(reason).toEqual({
      kind: 'dependencies',
      waitingOn: [
        { key: 'schema', state: 'ACTIVE' },
        { key: 'gone', state: 'missing' },
      ],
    });
    expect(describeStuckReason(reason!)).toBe('waits on schema (ACTIVE), gone (missing)');
  });

  it('does not diagnose tasks that are running or finished', () => {
    for (const state of ['ASSIGNED', 'ACTIVE', 'DONE', 'FAILED'] as const) {
      expect(diagnoseTask(task(state), { agents: [], pausedQueues: none })).toBeNull();
    }
  });

  it('says a waiting task whose job Redis lost waits for recover, before anything else', () => {
    const agents = [agent('a-1', ['dev'])];
    const lost = diagnoseTask(task('PENDING'), { agents, pausedQueues: none, job: 'missing' });
    expect(lost).toEqual({ kind: 'job-lost', job: 'missing' });
    expect(describeStuckReason(lost!)).toBe(
      'its job is not in Redis (Redis lost it?): `agentq recover` rebuilds it',
    );
    const states = new Map([['build', 'DONE' as const]]);
    const fragment = diagnoseTask(task('BACKLOG', ['build']), {
      agents,
      pausedQueues: none,
      dependencyStates: states,
      job: 'fragment',
    });
    expect(fragment).toEqual({ kind: 'job-lost', job: 'fragment' });
    expect(describeStuckReason(fragment!)).toMatch(/^its job in Redis is a fragment without data/);
    expect(
      diagnoseTask(task('PENDING'), { agents, pausedQueues: none, job: 'present' }),
    ).toBeNull();
    expect(diagnoseTask(task('ACTIVE'), { agents, pausedQueues: none, job: 'missing' })).toBeNull();
  });
});
