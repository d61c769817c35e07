/** `GET /api/goals/:id/graph.svg`: the DAG as a picture, nodes coloured by state. */
import { MAX_GRAPH_TASKS, renderGoalSvg, renderTooLargeSvg } from '../graph-svg';
import { loadGoal } from './goal-tasks';
import type { RouteHandler } from './route-handler';

export const goalGraph: RouteHandler = async (deps, req, res) => {
  const { tasks } = await loadGoal(deps.store, String(req.params.id));
  const svg =
    tasks.length > MAX_GRAPH_TASKS ? renderTooLargeSvg(tasks.length) : renderGoalSvg(tasks);
  res.type('image/svg+xml').send(svg);
};
