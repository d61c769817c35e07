/** `GET /api/agents`: the live agents (heartbeat within three intervals), breakers included. */
import type { RouteHandler } from './route-handler';

export const listAgents: RouteHandler = async (deps, _req, res) => {
  res.json({ agents: await deps.coordinator.getAllAgents() });
};
