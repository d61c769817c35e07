import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRegistry } from '../../src/entities/task-registry';
import { taskStoreContract } from './store-contract';

const dir = mkdtempSync(join(tmpdir(), 'agentq-json-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('json task store', () => {
  taskStoreContract(async () => ({
    make: () => new TaskRegistry({ backend: 'json', dir: join(dir, 'contract') }),
    teardown: async () => undefined,
  }));
});
