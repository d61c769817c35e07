/**
 * The goal page's "Revisions" section: one row per repair of a replanning goal (revisions.ts) —
 * its number, the task that failed and its error, the tasks the patch added (the replacement
 * marked), who wrote the patch and when. Empty for a goal without revisions; the page and
 * `GET /goals/:id/parts` render it the same way, so a repair made while the page is open joins it.
 */
import type { GoalRevision } from '../../queues/revisions';
import { escapeHtml } from './layout';

function addedCell(r: GoalRevision): string {
  const keys = r.added.map((key) =>
    key === r.replacement
      ? `<code class="replacement" data-key="${escapeHtml(key)}">${escapeHtml(key)}</code>` +
        ` (replaces ${escapeHtml(r.cause.task)})`
      : `<code data-key="${escapeHtml(key)}">${escapeHtml(key)}</code>`,
  );
  const cancelled =
    r.cancelled.length > 0 ? `; cancelled ${r.cancelled.map((k) => escapeHtml(k)).join(', ')}` : '';
  return `<td class="added">${keys.join(', ')}${cancelled}</td>`;
}

function revisionRow(r: GoalRevision): string {
  const at = r.at.toISOString();
  return (
    `<tr data-revision="${r.revision}"><td class="revision">${r.revision}</td>` +
    `<td class="cause">${escapeHtml(r.cause.task)}</td>` +
    `<td class="error">${escapeHtml(r.cause.error)}</td>` +
    addedCell(r) +
    `<td class="actor">${escapeHtml(r.actor)}</td>` +
    `<td class="at"><time datetime="${at}">${at}</time></td></tr>`
  );
}

/** The section's HTML, or '' when the goal has no revision. */
export function revisionsSection(revisions: readonly GoalRevision[]): string {
  if (revisions.length === 0) return '';
  return (
    `<h3>Revisions</h3><table id="revisions"><thead><tr><th>Revision</th><th>Failed task</th>` +
    `<th>Error</th><th>Tasks added</th><th>By</th><th>At</th></tr></thead>` +
    `<tbody>${revisions.map(revisionRow).join('')}</tbody></table>`
  );
}
