/**
 * Goals record who submitted them and when their tasks' `new` events reached the audit log. A
 * submission writes the goal and its tasks first, then the flow to Redis, and only then the
 * `new` events (`recorded_at`): a goal Redis refuses is deleted again without ever having taken
 * a seq or reached the channels. Goals written before this migration were recorded at creation.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class GoalRecorded1765000000000 implements MigrationInterface {
  name = 'GoalRecorded1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const pg = queryRunner.connection.options.type === 'postgres';
    const time = pg ? 'TIMESTAMP WITH TIME ZONE' : 'datetime';
    const text = pg ? 'character varying(200)' : 'varchar(200)';
    await queryRunner.query(`ALTER TABLE "goals" ADD COLUMN "created_by" ${text}`);
    await queryRunner.query(`ALTER TABLE "goals" ADD COLUMN "recorded_at" ${time}`);
    await queryRunner.query(`UPDATE "goals" SET "recorded_at" = "created_at"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "goals" DROP COLUMN "recorded_at"`);
    await queryRunner.query(`ALTER TABLE "goals" DROP COLUMN "created_by"`);
  }
}
