/** Loads a goal and all of its tasks, or throws `NotFoundError`; shared by the API and the pages. */
import type { GoalRecord, TaskRecord } from '../../entities/task-model';
import type { TaskStore } from '../../entities/task-store';
import { NotFoundError } from '../../errors';

const PAGE = 5000;

export async function loadGoal(
  store: TaskStore,
  goalId: string,
): Promise<{ goal: GoalRecord; tasks: TaskRecord[] }> {
  const goal = await store.getGoal(goalId);
  if (!goal) throw new NotFoundError('goal', goalId);
  const tasks: TaskRecord[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.findTasks({ goalId, limit: PAGE, offset });
    tasks.push(...page);
    if (page.length < PAGE) break;
  }
  return { goal, tasks };
}
