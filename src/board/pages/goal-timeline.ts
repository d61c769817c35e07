/**
 * The goal page's timeline: one row per task that has waited or run, a bar for the time it
 * waited (queued, or created, → claimed) and one for the time it ran (started → finished), on
 * one time axis from the goal's first task to its last end. Plain SVG, rendered at page load;
 * a task still waiting or running is drawn up to `now`. Times are those of the task's latest
 * run (its metrics), as `task show` reports them.
 */
import type { TaskRecord } from '../../entities/task-model';
import { escapeXml } from '../graph-svg';

/** Rows drawn at most; past this the timeline says how many it left out. */
export const TIMELINE_ROWS = 200;

const LABEL_WIDTH = 170;
const BAR_WIDTH = 560;
const TEXT_WIDTH = 220;
const ROW_HEIGHT = 20;
const AXIS_HEIGHT = 22;
/** Bars shorter than this are widened so a fast task stays visible. */
const MIN_BAR = 2;
const WAIT_COLOUR = '#9cc3f0';
const RUN_COLOUR = '#6cc788';

/** A span of one task's life, in epoch ms. */
interface Span {
  from: number;
  to: number;
}

export interface TimelineRow {
  task: TaskRecord;
  wait: Span | null;
  run: Span | null;
}

/** `850 ms`, `3.4 s`, `2 min 5 s`, `1 h 3 min`: short enough for a bar's label. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Queued (or created) → claimed; a task still PENDING waits up to now. */
function waitSpan(task: TaskRecord, now: Date): Span | null {
  const queued = (task.queuedAt ?? task.createdAt).getTime();
  if (task.state === 'PENDING') return { from: queued, to: now.getTime() };
  if (!task.claimedAt) return null;
  const claimed = task.claimedAt.getTime();
  // A dependent's queue time is stamped when the mirror sees its release, which can come a
  // moment after an agent claimed it: such a task waited no time at all.
  return { from: Math.min(queued, claimed), to: claimed };
}

/** Started → finished; a task still ACTIVE runs up to now. */
function runSpan(task: TaskRecord, now: Date): Span | null {
  if (!task.startedAt) return null;
  const started = task.startedAt.getTime();
  if (task.state === 'ACTIVE') return { from: started, to: Math.max(started, now.getTime()) };
  if (!task.finishedAt) return null;
  return { from: started, to: Math.max(started, task.finishedAt.getTime()) };
}

/** When a task waited and ran; null spans for what has not happened (or had no times). */
export function timelineRow(task: TaskRecord, now: Date): TimelineRow {
  return { task, wait: waitSpan(task, now), run: runSpan(task, now) };
}

function bar(kind: 'wait' | 'run', span: Span, x: (t: number) => number, y: number): string {
  const left = x(span.from);
  const width = Math.max(MIN_BAR, x(span.to) - left);
  const fill = kind === 'wait' ? WAIT_COLOUR : RUN_COLOUR;
  const title = `${kind === 'wait' ? 'waited' : 'ran'} ${formatDuration(span.to - span.from)}`;
  return (
    `<rect class="${kind}" x="${left.toFixed(1)}" y="${y + 4}" width="${width.toFixed(1)}" ` +
    `height="${ROW_HEIGHT - 8}" fill="${fill}"><title>${title}</title></rect>`
  );
}

function durations(row: TimelineRow): string {
  const parts: string[] = [];
  if (row.wait) parts.push(`waited ${formatDuration(row.wait.to - row.wait.from)}`);
  if (row.run) parts.push(`ran ${formatDuration(row.run.to - row.run.from)}`);
  return parts.join(' · ');
}

/** The timeline section of the goal page (a note when no task has waited or run yet). */
export function renderTimeline(tasks: readonly TaskRecord[], now: Date): string {
  const all = tasks.map((t) => timelineRow(t, now)).filter((r) => r.wait || r.run);
  if (all.length === 0) return '<p id="timeline-empty">No task has waited or run yet.</p>';
  const rows = all.slice(0, TIMELINE_ROWS);
  const spans = rows.flatMap((r) => [r.wait, r.run]).filter((s): s is Span => s !== null);
  const start = Math.min(...spans.map((s) => s.from));
  const end = Math.max(...spans.map((s) => s.to));
  const scale = BAR_WIDTH / Math.max(1, end - start);
  const x = (t: number) => LABEL_WIDTH + (t - start) * scale;
  const width = LABEL_WIDTH + BAR_WIDTH + TEXT_WIDTH;
  const height = AXIS_HEIGHT + rows.length * ROW_HEIGHT;
  const body = rows.map((row, i) => {
    const y = AXIS_HEIGHT + i * ROW_HEIGHT;
    const label = row.task.key.length > 22 ? `${row.task.key.slice(0, 21)}…` : row.task.key;
    return (
      `<g class="timeline-task" data-task-id="${escapeXml(row.task.id)}">` +
      `<text x="4" y="${y + 14}">${escapeXml(label)}</text>` +
      (row.wait ? bar('wait', row.wait, x, y) : '') +
      (row.run ? bar('run', row.run, x, y) : '') +
      `<text class="durations" x="${LABEL_WIDTH + BAR_WIDTH + 8}" y="${y + 14}">${durations(row)}</text></g>`
    );
  });
  const axis =
    `<text x="${LABEL_WIDTH}" y="14">0</text>` +
    `<text x="${LABEL_WIDTH + BAR_WIDTH}" y="14" text-anchor="end">${formatDuration(end - start)}</text>` +
    `<line x1="${LABEL_WIDTH}" y1="${AXIS_HEIGHT - 2}" x2="${LABEL_WIDTH + BAR_WIDTH}" ` +
    `y2="${AXIS_HEIGHT - 2}" stroke="#889"/>`;
  const left = all.length - rows.length;
  return (
    `<p class="legend"><span style="color:${WAIT_COLOUR}">■</span> waited (queued → claimed) ` +
    `<span style="color:${RUN_COLOUR}">■</span> ran (started → finished), from ` +
    `<time>${new Date(start).toISOString()}</time></p>` +
    `<div class="graph"><svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="${width}" ` +
    `height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">` +
    `${axis}${body.join('')}</svg></div>` +
    (left > 0
      ? `<p>${left} more tasks not drawn (the timeline stops at ${TIMELINE_ROWS}).</p>`
      : '')
  );
}
