import { TaskRegistry } from '../../src/entities/task-registry';
import { createPgSchema, PG_URL } from '../helpers/servers';
import { taskStoreContract } from './store-contract';
import { twoWritersKeepSeqGapFree } from './store-processes';

describe('postgres task store', () => {
  taskStoreContract(async () => {
    const { schema, drop } = await createPgSchema();
    return {
      make: () => new TaskRegistry({ backend: 'postgres', url: PG_URL, schema }),
      teardown: drop,
    };
  });

  // The batch writers serialise on the seq counter row rather than on row locks: two processes
  // writing the same tasks' goal at once must still leave every change applied, seq gap-free.
  it('stays gap-free with two processes writing the same schema', async () => {
    const { schema, drop } = await createPgSchema();
    const registry = new TaskRegistry({ backend: 'postgres', url: PG_URL, schema });
    try {
      await registry.open();
      await twoWritersKeepSeqGapFree(registry, `${PG_URL}?schema=${schema}`);
    } finally {
      await registry.close();
      await drop();
    }
  });
});
