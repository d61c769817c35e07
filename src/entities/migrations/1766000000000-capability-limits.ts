/**
 * Capability limits (`agentq limits set`) are kept in SQL as well as in Redis, so `agentq
 * recover` can restore them after Redis lost its keys: one row per capability, its limits as JSON.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CapabilityLimits1766000000000 implements MigrationInterface {
  name = 'CapabilityLimits1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const pg = queryRunner.connection.options.type === 'postgres';
    await queryRunner.query(
      pg
        ? `CREATE TABLE "capability_limits" ("capability" character varying(64) NOT NULL, "limits" jsonb NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_capability_limits" PRIMARY KEY ("capability"))`
        : `CREATE TABLE "capability_limits" ("capability" varchar(64) PRIMARY KEY NOT NULL, "limits" text NOT NULL, "updated_at" datetime NOT NULL)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "capability_limits"`);
  }
}
