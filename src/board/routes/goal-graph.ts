/**
 * `GET /api/goals/:id/graph.svg`: the DAG as a picture, nodes coloured by state, a replanning
 * goal's repairs marked (no wait reasons: those are diagnosed against live agents, on the page).
 */
import { NO_MARKS, repairLinks } from '../graph-marks';
import { MAX_GRAPH_TASKS, renderGoalSvg, renderTooLargeSvg } from '../graph-svg';
import { revisionsOf } from '../../queues/revisions';
import { loadGoal } from './goal-tasks';
import type { RouteHandler } from './route-handler';

export const goalGraph: RouteHandler = async (deps, req, res) => {
  const { goal, tasks } = await loadGoal(deps.store, String(req.params.id));
  const marks =
    goal.plan.onFailure === 'replan'
      ? { ...repairLinks(revisionsOf(tasks)), waiting: NO_MARKS.waiting }
      : NO_MARKS;
  const svg =
    tasks.length > MAX_GRAPH_TASKS ? renderTooLargeSvg(tasks.length) : renderGoalSvg(tasks, marks);
  res.type('image/svg+xml').send(svg);
};
