/**
 * Living goals (DESIGN.md): tasks added to a running goal name the task that spawned them
 * (`spawned_by`, null for goal extensions) and the actor that added them (`added_by`); an
 * addTasks with deferRecord marks its tasks `deferred_at` until their `new` events are written,
 * as `goals.recorded_at` does for a whole goal. Every task before this migration was planned
 * with its goal: all three stay null.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TaskSpawnedBy1766200000000 implements MigrationInterface {
  name = 'TaskSpawnedBy1766200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const pg = queryRunner.connection.options.type === 'postgres';
    const time = pg ? 'TIMESTAMP WITH TIME ZONE' : 'datetime';
    const varchar = (n: number) => (pg ? `character varying(${n})` : `varchar(${n})`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "spawned_by" ${varchar(64)}`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "added_by" ${varchar(200)}`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "deferred_at" ${time}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['deferred_at', 'added_by', 'spawned_by']) {
      await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "${column}"`);
    }
  }
}
