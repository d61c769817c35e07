import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRegistry } from '../../src/entities/task-registry';
import { addTasksContract } from './store-add-tasks';

const dir = mkdtempSync(join(tmpdir(), 'agentq-sqlite-add-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite task store: living goals', () => {
  addTasksContract(() => new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') }));
});
