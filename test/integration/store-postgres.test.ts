import { TaskRegistry } from '../../src/entities/task-registry';
import { createPgSchema, PG_URL } from '../helpers/servers';
import { taskStoreContract } from './store-contract';

describe('postgres task store', () => {
  taskStoreContract(async () => {
    const { schema, drop } = await createPgSchema();
    return {
      make: () => new TaskRegistry({ backend: 'postgres', url: PG_URL, schema }),
      teardown: drop,
    };
  });
});
