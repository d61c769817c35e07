import { formatDuration, renderTimeline, timelineRow } from '../../src/board/pages/goal-timeline';
import { NO_METRICS } from '../../src/entities/apply-changes';
import type { TaskMetrics, TaskRecord } from '../../src/entities/task-model';
import type { TaskState } from '../../src/entities/task-state';

const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (ms: number) => new Date(t0 + ms);

function task(key: string, state: TaskState, metrics: Partial<TaskMetrics> = {}): TaskRecord {
  return {
    id: `g-1.${key}`,
    goalId: 'g-1',
    key,
    title: key,
    description: '',
    type: 'dev',
    priority: 5,
    data: {},
    dependsOn: [],
    attempts: 3,
    timeoutMs: 1000,
    optional: false,
    state,
    attempt: 1,
    epoch: 0,
    agentId: null,
    progress: null,
    result: null,
    error: null,
    createdAt: at(0),
    updatedAt: at(0),
    spawnedBy: null,
    addedBy: null,
    deferredAt: null,
    ...NO_METRICS,
    ...metrics,
  };
}

const done = task('build', 'DONE', {
  queuedAt: at(100),
  claimedAt: at(400),
  startedAt: at(500),
  finishedAt: at(2500),
});

describe('formatDuration', () => {
  it('says ms, s, min and h as the size asks', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(3400)).toBe('3.4 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(3_780_000)).toBe('1 h 3 min');
  });
});

describe('timelineRow', () => {
  it('waited from queued to claimed and ran from started to finished', () => {
    const row = timelineRow(done, at(10_000));
    expect(row.wait).toEqual({ from: t0 + 100, to: t0 + 400 });
    expect(row.run).toEqual({ from: t0 + 500, to: t0 + 2500 });
  });

  it('draws a waiting task from its creation up to now, a running one up to now', () => {
    expect(timelineRow(task('w', 'PENDING'), at(900)).wait).toEqual({ from: t0, to: t0 + 900 });
    const running = task('r', 'ACTIVE', { claimedAt: at(10), startedAt: at(20) });
    expect(timelineRow(running, at(900)).run).toEqual({ from: t0 + 20, to: t0 + 900 });
  });

  it('counts a claim stamped before the queue time (a released dependent) as no wait', () => {
    const released = task('pack', 'DONE', { queuedAt: at(311), claimedAt: at(310) });
    expect(timelineRow(released, at(900)).wait).toEqual({ from: t0 + 310, to: t0 + 310 });
  });

  it('has no spans for a task that neither waited to a claim nor ran (a BACKLOG task)', () => {
    const row = timelineRow(task('b', 'BACKLOG'), at(900));
    expect(row.wait).toBeNull();
    expect(row.run).toBeNull();
  });
});

describe('renderTimeline', () => {
  it('draws a wait and a run bar per task with its durations, scaled to the goal span', () => {
    const html = renderTimeline([done, task('b', 'BACKLOG')], at(2500));
    expect(html).toContain('<g class="timeline-task" data-task-id="g-1.build">');
    expect(html).not.toContain('data-task-id="g-1.b"');
    // 2400 ms from the first wait to the last end over 560 px: the wait starts at the left edge.
    expect(html).toMatch(/<rect class="wait" x="170\.0" y="\d+" width="70\.0"/);
    expect(html).toMatch(/<rect class="run" x="263\.3" y="\d+" width="466\.7"/);
    expect(html).toContain('waited 300 ms · ran 2.0 s');
    expect(html).toContain(`<time>${at(100).toISOString()}</time>`);
  });

  it('escapes task keys and ids, and says so when nothing has waited or run', () => {
    const odd = { ...done, id: 'g-1.<x>', key: '<x>' };
    const html = renderTimeline([odd], at(2500));
    expect(html).not.toContain('<x>');
    expect(html).toContain('&#60;x&#62;');
    expect(renderTimeline([task('b', 'BACKLOG')], at(1))).toContain('No task has waited or run');
  });
});
