/**
 * Schema drift: the migrations, run on a fresh SQLite file and a fresh PostgreSQL schema, must
 * build exactly the tables the entities declare (entity-schemas.ts) — tables, columns (name,
 * type, nullability, default), primary keys and indexes. TypeORM's schema builder compares the
 * database with the entity metadata and logs the SQL it would run to reach the entities
 * (`synchronize` stays off): no SQL means no drift. A column added to an entity without a
 * migration makes it log an ALTER/CREATE, and this test fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, EntitySchema } from 'typeorm';
import {
  postgresDataSource,
  runStoreMigrations,
  sqliteDataSource,
} from '../../src/entities/data-source';
import { entitySchemas, type SqlDialect } from '../../src/entities/entity-schemas';
import { MIGRATIONS } from '../../src/entities/migrations';
import { createPgSchema, PG_URL } from '../helpers/servers';

/** The statements TypeORM would run to make the database match `source`'s entities. */
async function driftOf(source: DataSource): Promise<string[]> {
  const log = await source.driver.createSchemaBuilder().log();
  return log.upQueries.map((q) => q.query);
}

/** The entities with one column more on `tasks`: what an entity edit without a migration is. */
function withExtraColumn(dialect: SqlDialect): EntitySchema[] {
  return entitySchemas(dialect).map((schema) =>
    schema.options.name === 'tasks'
      ? new EntitySchema({
          ...schema.options,
          columns: { ...schema.options.columns, drift_probe: { type: 'integer', nullable: true } },
        })
      : schema,
  );
}

describe('the migrations build exactly the tables the entities declare', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentq-drift-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('on SQLite', async () => {
    const path = join(dir, 'drift.db');
    const source = sqliteDataSource({ path });
    await source.initialize();
    try {
      await runStoreMigrations(source);
      expect(await driftOf(source)).toEqual([]);
    } finally {
      await source.destroy();
    }
    // The check sees a difference when there is one.
    const probe = new DataSource({
      type: 'better-sqlite3',
      database: path,
      entities: withExtraColumn('sqlite'),
      migrations: MIGRATIONS,
    });
    await probe.initialize();
    try {
      expect((await driftOf(probe)).join('\n')).toMatch(/drift_probe/);
    } finally {
      await probe.destroy();
    }
  });

  it('on PostgreSQL', async () => {
    const { schema, drop } = await createPgSchema();
    try {
      const source = postgresDataSource({ url: PG_URL, schema, poolSize: 1 });
      await source.initialize();
      try {
        await runStoreMigrations(source);
        expect(await driftOf(source)).toEqual([]);
      } finally {
        await source.destroy();
      }
      const probe = new DataSource({
        type: 'postgres',
        url: PG_URL,
        schema,
        entities: withExtraColumn('postgres'),
        extra: { max: 1, options: `-c search_path="${schema}"` },
      });
      await probe.initialize();
      try {
        expect((await driftOf(probe)).join('\n')).toMatch(/drift_probe/);
      } finally {
        await probe.destroy();
      }
    } finally {
      await drop();
    }
  });
});
