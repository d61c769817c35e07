import { repairLinks, waitBadge, waitReasons } from '../../src/board/graph-marks';
import { renderGoalSvg } from '../../src/board/graph-svg';
import { revisionsSection } from '../../src/board/pages/goal-revisions';
import { goalParts, graphLegend } from '../../src/board/pages/goal-table';
import { NO_METRICS } from '../../src/entities/apply-changes';
import type { AgentInfo, PlanSpec, TaskRecord } from '../../src/entities/task-model';
import { revisionsOf } from '../../src/queues/revisions';

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

const note = (revision: number, of: string, replaces?: string) => ({
  repair: {
    revision,
    of,
    error: `${of} broke <b>`,
    by: 'repair:template',
    ...(replaces ? { replaces } : {}),
  },
});

/** api failed and was retried; the retry failed and was replaced by retry2 after an approval. */
const tasks = [
  task('design', { state: 'DONE' }),
  task('api', { state: 'ACTIVE', dependsOn: ['design'] }),
  task('api.retry1', {
    state: 'ACTIVE',
    dependsOn: ['design'],
    spawnedBy: 'g-1.api',
    data: note(1, 'api', 'api'),
    createdAt: new Date(at.getTime() + 1000),
  }),
  task('api.resolve', {
    type: '_approvals',
    spawnedBy: 'g-1.api.retry1',
    data: note(2, 'api.retry1'),
    createdAt: new Date(at.getTime() + 2000),
  }),
  task('api.retry2', {
    state: 'BACKLOG',
    dependsOn: ['design', 'api.resolve'],
    spawnedBy: 'g-1.api.retry1',
    data: note(2, 'api.retry1', 'api.retry1'),
    createdAt: new Date(at.getTime() + 2000),
  }),
  task('docs', { type: 'writer' }),
  task('deploy', { state: 'BACKLOG', dependsOn: ['api'] }),
];

const agent: AgentInfo = {
  id: 'a-1',
  capabilities: ['dev'],
  breakers: {},
} as unknown as AgentInfo;

const replanning = { plan: { goal: 'x', onFailure: 'replan', tasks: [] } as PlanSpec };

/** The opening tag and the content of the node of `key`. */
function node(svg: string, key: string): string {
  const m = new RegExp(
    `<g class="[^"]*" data-task-id="g-1\\.${key.replace('.', '\\.')}"[^]*?</text></g>`,
  ).exec(svg);
  if (!m) throw new Error(`no node ${key}`);
  return m[0];
}

describe('revisions on the goal page', () => {
  it('lists each revision: number, cause, error, added with the replacement marked, actor, time', () => {
    const html = revisionsSection(revisionsOf(tasks));
    expect(html).toMatch(/^<h3>Revisions<\/h3><table id="revisions">/);
    expect(html).toContain(
      '<tr data-revision="1"><td class="revision">1</td><td class="cause">api</td>' +
        '<td class="error">api broke &#60;b&#62;</td>' +
        '<td class="added"><code class="replacement" data-key="api.retry1">api.retry1</code> (replaces api)</td>' +
        '<td class="actor">repair:template</td>' +
        '<td class="at"><time datetime="2026-01-01T12:00:01.000Z">2026-01-01T12:00:01.000Z</time></td></tr>',
    );
    expect(html).toContain(
      '<td class="added"><code data-key="api.resolve">api.resolve</code>, ' +
        '<code class="replacement" data-key="api.retry2">api.retry2</code> (replaces api.retry1)</td>',
    );
    expect(revisionsSection([])).toBe('');
  });

  it('says what a patch cancelled', () => {
    const [first] = revisionsOf(tasks);
    expect(revisionsSection([{ ...first!, cancelled: ['docs'] }])).toContain(
      '(replaces api); cancelled docs</td>',
    );
  });

  it('links each failed key to its replacement, both ways', () => {
    const links = repairLinks(revisionsOf(tasks));
    expect([...links.replacedBy]).toEqual([
      ['api', 'api.retry1'],
      ['api.retry1', 'api.retry2'],
    ]);
    expect([...links.replaces]).toEqual([
      ['api.retry1', 'api'],
      ['api.retry2', 'api.retry1'],
    ]);
  });

  it('marks the replaced task and its replacement on the picture, taller by a line each', () => {
    const waiting = waitReasons(tasks, [agent]);
    const svg = renderGoalSvg(tasks, { ...repairLinks(revisionsOf(tasks)), waiting });
    const api = node(svg, 'api');
    expect(api).toMatch(/^<g class="task replaced" /);
    expect(api).toContain('<rect width="170" height="61" rx="8" fill="#f5c451" stroke="#b3261e"');
    expect(api).toContain(
      '<text class="repair-mark" x="10" y="51" font-size="11" fill="#333">replaced by api.retry1</text>',
    );
    const retry1 = node(svg, 'api.retry1');
    expect(retry1).toMatch(/^<g class="task replaced replacement" /);
    expect(retry1).toContain('height="76"');
    expect(retry1).toContain('>replaces api</text>');
    expect(retry1).toContain('>replaced by api.retry2</text>');
    expect(node(svg, 'api.retry2')).toMatch(/^<g class="task replacement" /);
    expect(node(svg, 'design')).toMatch(
      /^<g class="task" [^>]*><title>[^<]*<\/title><rect width="170" height="46" rx="8" fill="#6cc788" stroke="#445"\/>/,
    );
    expect(renderGoalSvg(tasks)).not.toContain('repair-mark');
  });

  it('badges a task nothing claims and says why in its tooltip; a dependency wait only in the tooltip', () => {
    const waiting = waitReasons(tasks, [agent]);
    expect(waitBadge(waiting.get('g-1.docs')!)).toBe('no agent');
    expect(waitBadge(waiting.get('g-1.deploy')!)).toBeNull();
    expect(waiting.has('g-1.api.resolve')).toBe(false);
    const svg = renderGoalSvg(tasks, { replacedBy: new Map(), replaces: new Map(), waiting });
    const docs = node(svg, 'docs');
    expect(docs).toMatch(/^<g class="task stuck" [^>]* data-waiting="no-agent" transform=/);
    expect(docs).toContain(
      '<title>docs: Do docs (writer, PENDING)\nwaiting because no live agent serves &#39;writer&#39;</title>',
    );
    expect(docs).toContain(
      '<g class="wait-badge"><title>waiting because no live agent serves &#39;writer&#39;</title>',
    );
    expect(docs).toContain('<text x="13" y="51" font-size="10" fill="#8c1d18">no agent</text></g>');
    // The badge sits inside its node.
    expect(svg).toContain('>no agent</text></g></g>');
    const deploy = node(svg, 'deploy');
    expect(deploy).toMatch(/^<g class="task" [^>]* data-waiting="dependencies" transform=/);
    expect(deploy).toContain('\nwaiting because waits on api (ACTIVE)</title>');
    expect(deploy).not.toContain('wait-badge');
    expect(waitBadge({ kind: 'paused', capability: 'dev' })).toBe('queue paused');
    expect(waitBadge({ kind: 'breakers-open', capability: 'dev', agents: ['a-1'] })).toBe(
      'breakers open',
    );
    expect(waitBadge({ kind: 'job-lost', job: 'missing' })).toBe('job lost');
  });

  it('explains only the marks drawn in its legend', () => {
    const none = { replacedBy: new Map(), replaces: new Map(), waiting: new Map() };
    expect(graphLegend(tasks, none)).toBe('');
    const links = repairLinks(revisionsOf(tasks));
    expect(graphLegend(tasks, { ...links, waiting: new Map() })).toBe(
      '<p class="graph-legend"><span class="legend-replaced">dashed red outline: failed, replaced by ' +
        'a repair (see Revisions)</span> · <span class="legend-replacement">green outline: a ' +
        'repair’s replacement</span></p>',
    );
    // A dependency wait alone draws no badge, so no legend for it.
    const deps = waitReasons([tasks[6]!], [agent]);
    expect(graphLegend([tasks[6]!], { ...none, waiting: deps })).toBe('');
    const all = waitReasons(tasks, []);
    expect(graphLegend(tasks, { ...none, waiting: all })).toBe(
      '<p class="graph-legend"><span class="legend-stuck">red badge: nothing claims the task as ' +
        'things stand (hover for why)</span></p>',
    );
  });

  it('renders the parts with revisions for a replanning goal only', () => {
    const parts = goalParts(replanning, tasks, [agent]);
    expect(parts.revisions).toContain('<tr data-revision="2">');
    expect(parts.picture).toContain('<g class="task replaced" data-task-id="g-1.api"');
    expect(parts.picture).toContain('<p class="graph-legend">');
    expect(parts.rows).toContain(
      '<td class="wait-reason" data-waiting="no-agent">no live agent serves &#39;writer&#39;</td>',
    );
    expect(parts.rows).toContain('<td class="wait-reason" data-waiting="dependencies">waits on');
    expect(parts.rows).toMatch(/data-task-id="g-1.design">[^]*?<td class="wait-reason"><\/td>/);
    // A task's own data shaped like a repair note is not a revision of a goal that fails.
    const failing = goalParts({ plan: { ...replanning.plan, onFailure: 'fail' } }, tasks, [agent]);
    expect(failing.revisions).toBe('');
    expect(failing.picture).not.toContain('replaced');
  });
});
