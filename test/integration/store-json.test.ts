import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRegistry } from '../../src/entities/task-registry';
import { newGoal, newTask, taskStoreContract } from './store-contract';
import { twoWritersKeepSeqGapFree } from './store-processes';

const dir = mkdtempSync(join(tmpdir(), 'agentq-json-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('json task store', () => {
  taskStoreContract(async () => ({
    make: () => new TaskRegistry({ backend: 'json', dir: join(dir, 'contract') }),
    teardown: async () => undefined,
  }));

  it('writes one file per task with sorted keys, and the events as JSON lines', async () => {
    const root = join(dir, 'files');
    const registry = new TaskRegistry({ backend: 'json', dir: root });
    try {
      const task = newTask('design');
      await registry.createGoal(newGoal(), [task]);
      const text = readFileSync(join(root, 'tasks', `${task.id}.json`), 'utf8');
      const keys = Object.keys(JSON.parse(text) as object);
      expect(keys).toEqual([...keys].sort());
      expect(text).toContain('\n  "agentId": null,\n');
      const lines = readFileSync(join(root, 'events.jsonl'), 'utf8').trimEnd().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual([1]);
    } finally {
      await registry.close();
    }
  });

  it('takes turns with another process through its lock file: seq stays gap-free', async () => {
    const root = join(dir, 'shared');
    const registry = new TaskRegistry({ backend: 'json', dir: root });
    try {
      await twoWritersKeepSeqGapFree(registry, `json:${root}`);
    } finally {
      await registry.close();
    }
  });
});
