/**
 * Goal budgets (docs/budgets.md): each goal keeps its budget (`budget`, null when it has none),
 * what its tasks used so far (`usage`) and the Redis revision that copy was taken at
 * (`usage_rev`), so `agentq recover` can restore both — and a PAUSED state — after Redis lost
 * them. Use rolls up in Redis; these columns are its copy.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class GoalBudget1766100000000 implements MigrationInterface {
  name = 'GoalBudget1766100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const pg = queryRunner.connection.options.type === 'postgres';
    const json = pg ? 'jsonb' : 'text';
    const zero = pg ? `'0'` : '(0)';
    await queryRunner.query(`ALTER TABLE "goals" ADD COLUMN "budget" ${json}`);
    await queryRunner.query(`ALTER TABLE "goals" ADD COLUMN "usage" ${json}`);
    await queryRunner.query(
      `ALTER TABLE "goals" ADD COLUMN "usage_rev" bigint NOT NULL DEFAULT ${zero}`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['usage_rev', 'usage', 'budget']) {
      await queryRunner.query(`ALTER TABLE "goals" DROP COLUMN "${column}"`);
    }
  }
}
