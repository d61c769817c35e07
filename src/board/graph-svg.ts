/**
 * A goal's DAG as an SVG picture: dagre lays the tasks out (top to bottom, dependencies above
 * their dependents), each task is a rounded box coloured by its state. Boxes carry
 * `data-task-id` and `data-state` so the goal page can recolour them live from SSE events. The
 * tasks a task spawned sit in a dashed box "spawned by <key>" under it (a dagre cluster), with a
 * dashed edge from the spawner to each of them that depends on no other task of the box. With
 * marks (graph-marks.ts) a repaired task says "replaced by X" (dashed red outline), its
 * replacement "replaces X" (green), and a task that cannot be claimed as things stand has a red
 * badge (no agent, paused, …); a waiting task's tooltip says why it waits.
 */
import { createRequire } from 'node:module';
import type * as Dagre from '@dagrejs/dagre' with { 'resolution-mode': 'import' };
import type { TaskRecord } from '../entities/task-model';
import { type GraphMarks, NO_MARKS } from './graph-marks';
import { clip, escapeXml, NODE_HEIGHT, NODE_WIDTH, nodeSvg, taskNodeHeight } from './graph-node';
import { spawnGroupId, spawnGroups } from './spawn-groups';

/** Past this many tasks the layout would take seconds; the page lists tasks instead. */
export const MAX_GRAPH_TASKS = 600;

export { escapeXml, STATE_COLOURS } from './graph-node';

// dagre ships ESM types over a CommonJS build: load the CommonJS build, keep the types.
const dagre = createRequire(__filename)('@dagrejs/dagre') as typeof Dagre;
type NodeLabel = Dagre.NodeLabel;
type EdgeLabel = Dagre.EdgeLabel;

function edgeSvg(label: EdgeLabel & { spawn?: boolean }): string {
  const points = label.points ?? [];
  if (points.length === 0) return '';
  const d = points
    .map((p: Dagre.Point, i: number) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
    .join(' ');
  const kind = label.spawn ? 'spawn-edge" stroke-dasharray="5 3' : 'edge';
  return `<path class="${kind}" d="${d}" fill="none" stroke="#667" stroke-width="1.4" marker-end="url(#arrow)"/>`;
}

/** The dashed box around what one task spawned, its label in the top left corner. */
function groupSvg(spawner: TaskRecord, label: NodeLabel): string {
  const x = (label.x ?? 0) - label.width / 2;
  const y = (label.y ?? 0) - label.height / 2;
  return (
    `<g class="spawn-group" data-spawned-by="${escapeXml(spawner.id)}" ` +
    `transform="translate(${x.toFixed(1)},${y.toFixed(1)})">` +
    `<rect width="${label.width.toFixed(1)}" height="${label.height.toFixed(1)}" rx="10" ` +
    `fill="#f3f1fb" stroke="#8a80b8" stroke-dasharray="6 4"/>` +
    `<text x="8" y="14" font-size="11" fill="#554">spawned by ${escapeXml(clip(spawner.key))}</text></g>`
  );
}

/** Each spawner's tasks as a cluster under it, nested as they spawned. */
function addSpawnGroups(
  graph: Dagre.graphlib.Graph<Record<string, unknown>, NodeLabel, EdgeLabel>,
  tasks: readonly TaskRecord[],
): Map<string, string[]> {
  const groups = spawnGroups(tasks);
  const groupOf = new Map<string, string>();
  for (const [spawner, keys] of groups) for (const k of keys) groupOf.set(k, spawner);
  for (const [spawner, keys] of groups) {
    const id = spawnGroupId(spawner);
    graph.setNode(id, { width: 0, height: 0 });
    const outer = groupOf.get(spawner);
    if (outer) graph.setParent(id, spawnGroupId(outer));
    for (const key of keys) graph.setParent(key, id);
  }
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  for (const [spawner, keys] of groups) {
    const inGroup = new Set(keys);
    for (const key of keys) {
      if (byKey.get(key)!.dependsOn.some((d) => inGroup.has(d))) continue;
      graph.setEdge(spawner, key, { spawn: true } as EdgeLabel);
    }
  }
  return groups;
}

/** Renders the tasks of one goal (edges between tasks of the set only). */
export function renderGoalSvg(tasks: readonly TaskRecord[], marks: GraphMarks = NO_MARKS): string {
  const graph = new dagre.Graph<Record<string, unknown>, NodeLabel, EdgeLabel>({ compound: true });
  graph.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 42, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  for (const task of tasks) {
    graph.setNode(task.key, { width: NODE_WIDTH, height: taskNodeHeight(task, marks) });
  }
  for (const task of tasks) {
    for (const dep of task.dependsOn) if (byKey.has(dep)) graph.setEdge(dep, task.key);
  }
  const groups = addSpawnGroups(graph, tasks);
  dagre.layout(graph);
  const size = graph.graph() as { width?: number; height?: number };
  const width = Math.ceil(size.width ?? NODE_WIDTH);
  const height = Math.ceil(size.height ?? NODE_HEIGHT);
  const edges = graph.edges().map((e: Dagre.Edge) => edgeSvg(graph.edge(e)));
  const nodes = tasks.map((task) => nodeSvg(task, graph.node(task.key), marks));
  const boxes = [...groups.keys()].map((k) => groupSvg(byKey.get(k)!, graph.node(spawnGroupId(k))));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="goal-graph" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" ` +
    `markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#667"/></marker></defs>` +
    `<g class="spawn-groups">${boxes.join('')}</g>` +
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
