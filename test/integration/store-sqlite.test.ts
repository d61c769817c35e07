import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TaskRegistry } from '../../src/entities/task-registry';
import { taskStoreContract } from './store-contract';
import { twoWritersKeepSeqGapFree } from './store-processes';

const dir = mkdtempSync(join(tmpdir(), 'agentq-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite task store', () => {
  taskStoreContract(async () => ({
    make: () => new TaskRegistry({ backend: 'sqlite', path: join(dir, 'contract', 'agentq.db') }),
    teardown: async () => undefined,
  }));

  it('stays sound and gap-free with two processes writing the same file', async () => {
    const path = join(dir, 'shared.db');
    const registry = new TaskRegistry({ backend: 'sqlite', path });
    try {
      await twoWritersKeepSeqGapFree(registry, `sqlite:${path}`);
    } finally {
      await registry.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });
});
