/**
 * Two real processes writing one store at once (test/integration/store-writer.ts), and the
 * checks that nothing was lost or numbered twice.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { TaskRegistry } from '../../src/entities/task-registry';
import { newGoal, newTask } from './store-contract';

const WRITER = join(__dirname, 'store-writer.ts');
const TASKS = 300;

function runWriter(db: string, goalId: string, parity: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--require', require.resolve('tsx/cjs'), WRITER, db, goalId, String(parity)],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`writer ${parity} exited ${code}: ${stderr}`)),
    );
  });
}

/** Runs two writers on `db` (an AGENTQ_DB value) against `registry` and checks the outcome. */
export async function twoWritersKeepSeqGapFree(registry: TaskRegistry, db: string): Promise<void> {
  const goal = newGoal();
  const tasks = Array.from({ length: TASKS }, (_, i) => newTask(`w${String(i).padStart(3, '0')}`));
  await registry.createGoal(goal, tasks);
  const before = await registry.lastSeq();

  await Promise.all([runWriter(db, goal.id, 0), runWriter(db, goal.id, 1)]);

  // Three transitions per task and one `new` event per child goal.
  expect(await registry.lastSeq()).toBe(before + TASKS * 3 + 2);
  const events = await registry.eventsAfter(0, 1000000);
  expect(events.every((event, i) => event.seq === i + 1)).toBe(true);
  expect(events.at(-1)?.seq).toBe(before + TASKS * 3 + 2);
  const done = await registry.findTasks({ goalId: goal.id, state: 'DONE', limit: 1000 });
  expect(done).toHaveLength(TASKS);
  expect(new Set(done.map((task) => task.agentId))).toEqual(new Set(['p0', 'p1']));
}
