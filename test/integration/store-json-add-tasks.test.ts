import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRegistry } from '../../src/entities/task-registry';
import { addTasksContract } from './store-add-tasks';
import { newGoal, newTask } from './store-contract';

const dir = mkdtempSync(join(tmpdir(), 'agentq-json-add-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('json task store: living goals', () => {
  addTasksContract(() => new TaskRegistry({ backend: 'json', dir: join(dir, 'store') }));

  it('reads task files written before living goals with spawnedBy, addedBy, deferredAt null', async () => {
    const root = join(dir, 'legacy');
    const task = newTask('old');
    const writer = new TaskRegistry({ backend: 'json', dir: root });
    try {
      await writer.createGoal(newGoal(), [task]);
    } finally {
      await writer.close();
    }
    const file = join(root, 'tasks', `${task.id}.json`);
    const record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    for (const field of ['spawnedBy', 'addedBy', 'deferredAt']) delete record[field];
    writeFileSync(file, JSON.stringify(record));
    const reader = new TaskRegistry({ backend: 'json', dir: root });
    try {
      const read = await reader.getTask(task.id);
      expect([read!.spawnedBy, read!.addedBy, read!.deferredAt]).toEqual([null, null, null]);
      expect(await reader.recordTasks([task.id])).toEqual([]);
    } finally {
      await reader.close();
    }
  });
});
