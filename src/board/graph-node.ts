/**
 * One task's box in the goal picture (graph-svg.ts): filled by its state, its key and
 * `type · state`, then a line per repair mark ("replaces X", "replaced by X") and, for a task
 * nothing claims as things stand, a red badge whose tooltip says why (graph-marks.ts). A waiting
 * task's own tooltip says why it waits on a line of its own, which the page's script drops.
 */
import type { TaskRecord } from '../entities/task-model';
import type { TaskState } from '../entities/task-state';
import { describeStuckReason, type StuckReason } from '../interface/interface-diagnosis';
import { type GraphMarks, waitBadge } from './graph-marks';

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

export const NODE_WIDTH = 170;
export const NODE_HEIGHT = 46;
const LABEL_CHARS = 24;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A label cut to what a box holds. */
export function clip(text: string): string {
  return text.length > LABEL_CHARS ? `${text.slice(0, LABEL_CHARS - 1)}…` : text;
}

/** Below the state line: "replaced by X", "replaces X", then the waiting badge. */
const LINE_HEIGHT = 15;

interface NodeLines {
  repair: string[];
  kind: StuckReason['kind'] | null;
  reason: string | null;
  badge: string | null;
}

function nodeLines(task: TaskRecord, marks: GraphMarks): NodeLines {
  const repair: string[] = [];
  const by = marks.replacedBy.get(task.key);
  const of = marks.replaces.get(task.key);
  if (of) repair.push(`replaces ${of}`);
  if (by) repair.push(`replaced by ${by}`);
  const reason = marks.waiting.get(task.id);
  return {
    repair,
    kind: reason?.kind ?? null,
    reason: reason ? describeStuckReason(reason) : null,
    badge: reason ? waitBadge(reason) : null,
  };
}

function nodeHeight(lines: NodeLines): number {
  return NODE_HEIGHT + LINE_HEIGHT * (lines.repair.length + (lines.badge ? 1 : 0));
}

function nodeClass(task: TaskRecord, marks: GraphMarks, lines: NodeLines): string {
  return [
    'task',
    ...(marks.replacedBy.has(task.key) ? ['replaced'] : []),
    ...(marks.replaces.has(task.key) ? ['replacement'] : []),
    ...(lines.badge ? ['stuck'] : []),
  ].join(' ');
}

/** A replaced task's box is dashed red, a replacement's green; the rest as their state. */
function outline(task: TaskRecord, marks: GraphMarks): string {
  if (marks.replacedBy.has(task.key))
    return 'stroke="#b3261e" stroke-width="2" stroke-dasharray="5 3"';
  if (marks.replaces.has(task.key)) return 'stroke="#1e7b3c" stroke-width="2"';
  return 'stroke="#445"';
}

/** The extra lines' SVG, starting under the state line. */
function extraLinesSvg(lines: NodeLines): string {
  let y = 36;
  let out = '';
  for (const text of lines.repair) {
    y += LINE_HEIGHT;
    out += `<text class="repair-mark" x="10" y="${y}" font-size="11" fill="#333">${escapeXml(clip(text))}</text>`;
  }
  if (lines.badge && lines.reason) {
    y += LINE_HEIGHT;
    const width = Math.ceil(lines.badge.length * 6.4 + 14);
    out +=
      `<g class="wait-badge"><title>${escapeXml(`waiting because ${lines.reason}`)}</title>` +
      `<rect x="6" y="${y - 11}" width="${width}" height="15" rx="7" fill="#fde2e1" stroke="#b3261e"/>` +
      `<text x="13" y="${y}" font-size="10" fill="#8c1d18">${escapeXml(lines.badge)}</text></g>`;
  }
  return out;
}

/** The box's height: taller by a line per mark. */
export function taskNodeHeight(task: TaskRecord, marks: GraphMarks): number {
  return nodeHeight(nodeLines(task, marks));
}

/** The box centred on `center` (dagre's layout of the node). */
export function nodeSvg(
  task: TaskRecord,
  center: { x?: number; y?: number },
  marks: GraphMarks,
): string {
  const lines = nodeLines(task, marks);
  const height = nodeHeight(lines);
  const x = (center.x ?? 0) - NODE_WIDTH / 2;
  const y = (center.y ?? 0) - height / 2;
  const by = task.spawnedBy ? `, spawned by ${task.spawnedBy}` : '';
  // The reason on its own line: the page's script drops it when the task stops waiting.
  const waits = lines.reason ? `\nwaiting because ${lines.reason}` : '';
  const title = `${task.key}: ${task.title} (${task.type}, ${task.state}${by})${waits}`;
  const spawned = task.spawnedBy ? ` data-spawned-by="${escapeXml(task.spawnedBy)}"` : '';
  const waiting = lines.kind ? ` data-waiting="${lines.kind}"` : '';
  return (
    `<g class="${nodeClass(task, marks, lines)}" data-task-id="${escapeXml(task.id)}" data-state="${task.state}"${spawned}${waiting} ` +
    `transform="translate(${x.toFixed(1)},${y.toFixed(1)})">` +
    `<title>${escapeXml(title)}</title>` +
    `<rect width="${NODE_WIDTH}" height="${height}" rx="8" fill="${STATE_COLOURS[task.state]}" ${outline(task, marks)}/>` +
    `<text x="10" y="19" font-weight="600">${escapeXml(clip(task.key))}</text>` +
    `<text class="state" x="10" y="36" font-size="11">${task.type} · ${task.state}</text>` +
    extraLinesSvg(lines) +
    `</g>`
  );
}
