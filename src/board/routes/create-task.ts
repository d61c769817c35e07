/** `POST /api/tasks`: a goal of one task (the createTask operation). */
import { createTask as createTaskOperation } from '../../interface/operations/create-task';
import { actorOf } from '../auth';
import type { RouteHandler } from './route-handler';
import { submittingDeps } from './supervisor-of';

export const createTask: RouteHandler = async (deps, req, res) => {
  const task = await createTaskOperation(submittingDeps(deps), req.body, actorOf(res));
  res.status(201).json({ task });
};
