/** `/`: task counts by state and the recent goals, each linking to its goal page. */
import { Router } from 'express';
import { TASK_STATES } from '../../entities/task-state';
import { STATE_COLOURS } from '../graph-svg';
import type { ApiContext } from '../routes/context';
import { goalProgress } from './goal-progress';
import { escapeHtml, page } from './layout';

export function homeRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const [byState, goals, agents] = await Promise.all([
      ctx.store.countByState(),
      ctx.store.listGoals({ limit: 100 }),
      ctx.coordinator.getAllAgents(),
    ]);
    const counts = TASK_STATES.map(
      (s) => `<td style="background:${STATE_COLOURS[s]}">${s}: ${byState[s] ?? 0}</td>`,
    ).join('');
    // One task read per goal (up to 100): the page is for people, not polled by machines.
    const withProgress = await Promise.all(
      goals.map(async (g) => ({
        g,
        p: goalProgress(g, await ctx.store.findTasks({ goalId: g.id, limit: 5000 }), agents),
      })),
    );
    const rows = withProgress
      .map(
        ({ g, p }) =>
          `<tr><td><a href="/goals/${encodeURIComponent(g.id)}">${escapeHtml(g.title)}</a></td>` +
          `<td class="state">${g.state}</td><td>${g.taskCount}</td>` +
          `<td class="progress">${p.done} / ${p.total}</td>` +
          `<td class="stuck">${p.stuck.map((r) => `⚠ ${escapeHtml(r)}`).join('<br>')}</td>` +
          `<td>${escapeHtml(g.planner)}</td><td>${g.createdAt.toISOString()}</td></tr>`,
      )
      .join('');
    const agentList = agents
      .map((a) => `${escapeHtml(a.id)} (${a.capabilities.map(escapeHtml).join(', ')})`)
      .join('; ');
    res
      .type('html')
      .send(
        page(
          'Goals',
          `<table><tr>${counts}</tr></table>` +
            `<p>Live agents: ${agents.length}${agents.length ? ` — ${agentList}` : ''}</p>` +
            `<h2>Goals</h2><table id="goals"><tr><th>Goal</th><th>State</th><th>Tasks</th><th>Done</th><th>Stuck</th>` +
            `<th>Planner</th><th>Created</th></tr>${rows}</table>`,
        ),
      );
  });
  return router;
}
