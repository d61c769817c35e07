/**
 * Which tasks of a goal were spawned by which (ctx.spawn), by plan key: the goal's picture draws
 * each spawner's tasks in one box under it, "spawned by <key>", nested when a spawned task spawns
 * in turn.
 */
import type { TaskRecord } from '../entities/task-model';
import { taskKeyOf } from '../mirror/channel-payload';

/** The graph node of the box that holds what `spawnerKey` spawned (keys never hold ':'). */
export function spawnGroupId(spawnerKey: string): string {
  return `spawn:${spawnerKey}`;
}

/**
 * Spawner key → the keys it spawned, in task order, for spawners that are among `tasks` (a
 * spawner outside the set has no node to hang its box under). A box comes after the box it sits
 * in, so drawing them in this order puts an inner box over its outer one.
 */
export function spawnGroups(
  tasks: readonly Pick<TaskRecord, 'key' | 'spawnedBy'>[],
): Map<string, string[]> {
  const keys = new Set(tasks.map((t) => t.key));
  const groups = new Map<string, string[]>();
  for (const task of tasks) {
    if (!task.spawnedBy) continue;
    const spawner = taskKeyOf(task.spawnedBy);
    if (!keys.has(spawner) || spawner === task.key) continue;
    const group = groups.get(spawner);
    if (group) group.push(task.key);
    else groups.set(spawner, [task.key]);
  }
  const spawnerOf = new Map<string, string>();
  for (const [spawner, keys] of groups) for (const k of keys) spawnerOf.set(k, spawner);
  const depth = (key: string): number => {
    let d = 0;
    // Spawns make no cycle; the bound only keeps bad data from looping.
    for (let k = spawnerOf.get(key); k !== undefined && d <= groups.size; k = spawnerOf.get(k)) d++;
    return d;
  };
  return new Map([...groups].sort(([a], [b]) => depth(a) - depth(b)));
}
