/**
 * Graph checks of a plan: a cycle (with its path, for the error message) and a topological
 * order. Iterative, so a chain of 100,000 tasks does not overflow the stack.
 */

/** The minimal shape these need: a key and the keys it depends on. */
export interface DagNode {
  key: string;
  dependsOn: readonly string[];
}

/** A cycle's path (`['a', 'b', 'a']`), or null when the graph is acyclic. Unknown keys are ignored. */
export function findCycle(nodes: readonly DagNode[]): string[] | null {
  const deps = new Map(nodes.map((n) => [n.key, n.dependsOn]));
  // 0 = unseen, 1 = on the current path, 2 = done.
  const mark = new Map<string, 1 | 2>();
  for (const start of nodes) {
    if (mark.has(start.key)) continue;
    const path: string[] = [start.key];
    const next: number[] = [0];
    mark.set(start.key, 1);
    while (path.length > 0) {
      const top = path.length - 1;
      const key = path[top]!;
      const list = deps.get(key) ?? [];
      const i = next[top]!;
      if (i >= list.length) {
        mark.set(key, 2);
        path.pop();
        next.pop();
        continue;
      }
      next[top] = i + 1;
      const dep = list[i]!;
      if (!deps.has(dep)) continue;
      const state = mark.get(dep);
      if (state === 1) return [...path.slice(path.indexOf(dep)), dep];
      if (state === undefined) {
        mark.set(dep, 1);
        path.push(dep);
        next.push(0);
      }
    }
  }
  return null;
}

/** Keys in an order where every task comes after all of its dependencies (Kahn; stable). */
export function topologicalOrder(nodes: readonly DagNode[]): string[] {
  const indegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    indegree.set(n.key, n.dependsOn.length);
    for (const d of n.dependsOn) {
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(n.key);
    }
  }
  const order = nodes.filter((n) => n.dependsOn.length === 0).map((n) => n.key);
  for (let i = 0; i < order.length; i++) {
    for (const e of dependents.get(order[i]!) ?? []) {
      const left = indegree.get(e)! - 1;
      indegree.set(e, left);
      if (left === 0) order.push(e);
    }
  }
  if (order.length !== nodes.length) throw new Error('topologicalOrder: the graph has a cycle');
  return order;
}
