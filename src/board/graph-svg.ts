/**
 * A goal's DAG as an SVG picture: dagre lays the tasks out (top to bottom, dependencies above
 * their dependents), each task is a rounded box coloured by its state. Boxes carry
 * `data-task-id` and `data-state` so the goal page can recolour them live from SSE events.
 */
import { createRequire } from 'node:module';
import type * as Dagre from '@dagrejs/dagre' with { 'resolution-mode': 'import' };
import type { TaskRecord } from '../entities/task-model';
import type { TaskState } from '../entities/task-state';

/** Fill colour of each state; the goal page's script uses the same table. */
export const STATE_COLOURS: Readonly<Record<TaskState, string>> = {
  BACKLOG: '#d0d4da',
  PENDING: '#9cc3f0',
  ASSIGNED: '#b7a3f0',
  ACTIVE: '#f5c451',
  DONE: '#6cc788',
  FAILED: '#e8676b',
  CANCELLED: '#8d939c',
};

/** Past this many tasks the layout would take seconds; the page lists tasks instead. */
export const MAX_GRAPH_TASKS = 600;

// dagre ships ESM types over a CommonJS build: load the CommonJS build, keep the types.
const dagre = createRequire(__filename)('@dagrejs/dagre') as typeof Dagre;
type NodeLabel = Dagre.NodeLabel;
type EdgeLabel = Dagre.EdgeLabel;

const NODE_WIDTH = 170;
const NODE_HEIGHT = 46;
const LABEL_CHARS = 24;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function clip(text: string): string {
  return text.length > LABEL_CHARS ? `${text.slice(0, LABEL_CHARS - 1)}…` : text;
}

function nodeSvg(task: TaskRecord, label: NodeLabel): string {
  const x = (label.x ?? 0) - NODE_WIDTH / 2;
  const y = (label.y ?? 0) - NODE_HEIGHT / 2;
  const title = `${task.key}: ${task.title} (${task.type}, ${task.state})`;
  return (
    `<g class="task" data-task-id="${escapeXml(task.id)}" data-state="${task.state}" ` +
    `transform="translate(${x.toFixed(1)},${y.toFixed(1)})">` +
    `<title>${escapeXml(title)}</title>` +
    `<rect width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="8" fill="${STATE_COLOURS[task.state]}" stroke="#445"/>` +
    `<text x="10" y="19" font-weight="600">${escapeXml(clip(task.key))}</text>` +
    `<text class="state" x="10" y="36" font-size="11">${task.type} · ${task.state}</text>` +
    `</g>`
  );
}

function edgeSvg(label: EdgeLabel): string {
  const points = label.points ?? [];
  if (points.length === 0) return '';
  const d = points
    .map((p: Dagre.Point, i: number) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
    .join(' ');
  return `<path class="edge" d="${d}" fill="none" stroke="#667" stroke-width="1.4" marker-end="url(#arrow)"/>`;
}

/** Renders the tasks of one goal (edges between tasks of the set only). */
export function renderGoalSvg(tasks: readonly TaskRecord[]): string {
  const graph = new dagre.Graph<Record<string, unknown>, NodeLabel, EdgeLabel>();
  graph.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 42, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  for (const task of tasks) graph.setNode(task.key, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const task of tasks) {
    for (const dep of task.dependsOn) if (byKey.has(dep)) graph.setEdge(dep, task.key);
  }
  dagre.layout(graph);
  const size = graph.graph() as { width?: number; height?: number };
  const width = Math.ceil(size.width ?? NODE_WIDTH);
  const height = Math.ceil(size.height ?? NODE_HEIGHT);
  const edges = graph.edges().map((e: Dagre.Edge) => edgeSvg(graph.edge(e)));
  const nodes = tasks.map((task) => nodeSvg(task, graph.node(task.key)));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="goal-graph" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" ` +
    `markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#667"/></marker></defs>` +
    `<g class="edges">${edges.join('')}</g><g class="nodes">${nodes.join('')}</g></svg>`
  );
}

/** What `graph.svg` shows for a goal past `MAX_GRAPH_TASKS`. */
export function renderTooLargeSvg(taskCount: number): string {
  const text = `${taskCount} tasks: too many to draw (the picture stops at ${MAX_GRAPH_TASKS})`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="520" height="40" font-family="sans-serif" ` +
    `font-size="13"><text x="10" y="24">${escapeXml(text)}</text></svg>`
  );
}
