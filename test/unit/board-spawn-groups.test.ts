import { renderGoalSvg } from '../../src/board/graph-svg';
import { goalPicture, taskRows } from '../../src/board/pages/goal-table';
import { spawnGroups } from '../../src/board/spawn-groups';
import { NO_METRICS } from '../../src/entities/apply-changes';
import type { TaskRecord } from '../../src/entities/task-model';

const at = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));

function task(key: string, more: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: `g-1.${key}`,
    goalId: 'g-1',
    key,
    title: `Do ${key}`,
    description: '',
    type: 'dev',
    priority: 5,
    data: {},
    dependsOn: [],
    attempts: 3,
    timeoutMs: 1000,
    optional: false,
    state: 'PENDING',
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
    ...more,
  };
}

/** plan → split, which spawned a and b (b after a); a spawned a1; gate waits on split. */
const tasks = [
  task('plan', { state: 'DONE' }),
  task('split', { state: 'ACTIVE', dependsOn: ['plan'] }),
  task('gate', { state: 'BACKLOG', dependsOn: ['split'], type: '_approvals' }),
  task('a', { spawnedBy: 'g-1.split' }),
  task('b', { spawnedBy: 'g-1.split', dependsOn: ['a'], state: 'BACKLOG' }),
  task('a1', { spawnedBy: 'g-1.a' }),
];

/** `[x, y, width, height]` of the element whose opening tag matches `attr`. */
function box(svg: string, attr: string): [number, number, number, number] {
  const m = new RegExp(
    `<g [^>]*${attr}[^>]*transform="translate\\(([\\d.]+),([\\d.]+)\\)">(?:<title>[^<]*</title>)?<rect width="([\\d.]+)" height="([\\d.]+)"`,
  ).exec(svg);
  if (!m) throw new Error(`no element with ${attr}`);
  return [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
}

function inside(inner: number[], outer: number[]): boolean {
  const [x, y, w, h] = inner as [number, number, number, number];
  const [ox, oy, ow, oh] = outer as [number, number, number, number];
  return x >= ox && y >= oy && x + w <= ox + ow && y + h <= oy + oh;
}

describe('spawnGroups', () => {
  it('groups spawned tasks by their spawner key, in task order', () => {
    expect([...spawnGroups(tasks)]).toEqual([
      ['split', ['a', 'b']],
      ['a', ['a1']],
    ]);
  });

  it('puts a box after the box it sits in, whatever the task order', () => {
    const reversed = [...tasks].reverse();
    expect([...spawnGroups(reversed).keys()]).toEqual(['split', 'a']);
  });

  it('leaves out a spawner that is not among the tasks', () => {
    expect(spawnGroups([task('x', { spawnedBy: 'g-1.gone' })]).size).toBe(0);
  });
});

describe('the goal picture with spawned tasks', () => {
  const svg = renderGoalSvg(tasks);

  it('draws a dashed box per spawner, labelled with its key, around what it spawned', () => {
    const split = box(svg, 'class="spawn-group" data-spawned-by="g-1.split"');
    const nested = box(svg, 'class="spawn-group" data-spawned-by="g-1.a"');
    expect(svg).toContain('spawned by split</text>');
    expect(svg).toContain('spawned by a</text>');
    for (const key of ['a', 'b', 'a1']) {
      expect(inside(box(svg, `data-task-id="g-1.${key}"`), split)).toBe(true);
    }
    expect(inside(box(svg, 'data-task-id="g-1.a1"'), nested)).toBe(true);
    expect(inside(nested, split)).toBe(true);
    for (const key of ['plan', 'split', 'gate']) {
      expect(inside(box(svg, `data-task-id="g-1.${key}"`), split)).toBe(false);
    }
    // The box hangs under its spawner.
    expect(split[1]).toBeGreaterThan(box(svg, 'data-task-id="g-1.split"')[1]);
  });

  it('marks spawned nodes and draws a spawn edge to each that waits on no sibling', () => {
    expect(svg).toContain('data-task-id="g-1.a" data-state="PENDING" data-spawned-by="g-1.split"');
    expect(svg).toMatch(/<g class="task" data-task-id="g-1.plan" data-state="DONE" transform/);
    // split → a, a → a1 (spawn edges); b waits on a, so no spawn edge to it.
    expect(svg.match(/<path class="spawn-edge"/g)).toHaveLength(2);
    // plan → split, split → gate, a → b.
    expect(svg.match(/<path class="edge"/g)).toHaveLength(3);
  });

  it('draws a goal without spawned tasks without boxes or spawn edges', () => {
    const plain = goalPicture(tasks.slice(0, 3));
    expect(plain).not.toContain('class="spawn-group"');
    expect(plain).not.toContain('spawn-edge');
    expect(plain.match(/<g class="task"/g)).toHaveLength(3);
  });
});

describe('the task table rows', () => {
  it('say which task spawned a spawned task', () => {
    const rows = taskRows(tasks, []);
    expect(rows).toContain(
      '<tr data-task-id="g-1.b" class="spawned" data-spawned-by="g-1.split"><td>b</td>',
    );
    expect(rows).toMatch(/data-task-id="g-1.b"[^]*?<td class="spawned-by">split<\/td>/);
    expect(rows).toMatch(
      /<tr data-task-id="g-1.plan"><td>plan<\/td>.*?<td class="spawned-by"><\/td>/,
    );
  });
});
