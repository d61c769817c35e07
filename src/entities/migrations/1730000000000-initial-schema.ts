/**
 * The first schema: goals, tasks, task_events, agents and store_meta (mirror cursors and the
 * event sequence counter). Matches `entitySchemas()` (test/integration/store-schema-drift.test.ts
 * checks it); the SQL was produced by TypeORM's schema builder for each dialect. Table names are unqualified: the PostgreSQL store sets
 * `search_path` to its schema, so the same statements serve any schema.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const SQLITE = [
  `CREATE TABLE "goals" ("id" varchar(64) PRIMARY KEY NOT NULL, "key" varchar(200), "title" text NOT NULL, "state" varchar(16) NOT NULL, "planner" varchar(100) NOT NULL, "task_count" integer NOT NULL, "plan" text NOT NULL, "created_at" datetime NOT NULL, "finished_at" datetime)`,
  `CREATE TABLE "tasks" ("id" varchar(64) PRIMARY KEY NOT NULL, "goal_id" varchar(64) NOT NULL, "key" varchar(100) NOT NULL, "title" text NOT NULL, "description" text NOT NULL, "type" varchar(100) NOT NULL, "priority" integer NOT NULL, "data" text NOT NULL, "depends_on" text NOT NULL, "attempts" integer NOT NULL, "timeout_ms" bigint NOT NULL, "optional" boolean NOT NULL, "state" varchar(16) NOT NULL, "attempt" integer NOT NULL, "epoch" integer NOT NULL, "agent_id" varchar(200), "progress" text, "result" text, "error" text, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "queued_at" datetime, "claimed_at" datetime, "started_at" datetime, "finished_at" datetime, "wait_ms" bigint, "duration_ms" bigint, "cpu_ms" bigint, "peak_rss_bytes" bigint, "quality_score" double precision)`,
  `CREATE TABLE "task_events" ("seq" bigint PRIMARY KEY NOT NULL, "task_id" varchar(64) NOT NULL, "goal_id" varchar(64) NOT NULL, "event" varchar(16) NOT NULL, "from_state" varchar(16), "to_state" varchar(16) NOT NULL, "attempt" integer NOT NULL, "agent_id" varchar(200), "actor" varchar(200), "at" datetime NOT NULL, "detail" text)`,
  `CREATE TABLE "agents" ("id" varchar(200) PRIMARY KEY NOT NULL, "capabilities" text NOT NULL, "host" varchar(255) NOT NULL, "pid" integer NOT NULL, "started_at" datetime NOT NULL, "last_seen_at" datetime NOT NULL, "running" text NOT NULL, "concurrency" integer NOT NULL, "breakers" text NOT NULL)`,
  `CREATE TABLE "store_meta" ("name" varchar(200) PRIMARY KEY NOT NULL, "value" text, "counter" bigint NOT NULL DEFAULT (0), "updated_at" datetime NOT NULL)`,
];

const POSTGRES = [
  `CREATE TABLE "goals" ("id" character varying(64) NOT NULL, "key" character varying(200), "title" text NOT NULL, "state" character varying(16) NOT NULL, "planner" character varying(100) NOT NULL, "task_count" integer NOT NULL, "plan" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_goals" PRIMARY KEY ("id"))`,
  `CREATE TABLE "tasks" ("id" character varying(64) NOT NULL, "goal_id" character varying(64) NOT NULL, "key" character varying(100) NOT NULL, "title" text NOT NULL, "description" text NOT NULL, "type" character varying(100) NOT NULL, "priority" integer NOT NULL, "data" jsonb NOT NULL, "depends_on" jsonb NOT NULL, "attempts" integer NOT NULL, "timeout_ms" bigint NOT NULL, "optional" boolean NOT NULL, "state" character varying(16) NOT NULL, "attempt" integer NOT NULL, "epoch" integer NOT NULL, "agent_id" character varying(200), "progress" jsonb, "result" jsonb, "error" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "queued_at" TIMESTAMP WITH TIME ZONE, "claimed_at" TIMESTAMP WITH TIME ZONE, "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "wait_ms" bigint, "duration_ms" bigint, "cpu_ms" bigint, "peak_rss_bytes" bigint, "quality_score" double precision, CONSTRAINT "PK_tasks" PRIMARY KEY ("id"))`,
  `CREATE TABLE "task_events" ("seq" bigint NOT NULL, "task_id" character varying(64) NOT NULL, "goal_id" character varying(64) NOT NULL, "event" character varying(16) NOT NULL, "from_state" character varying(16), "to_state" character varying(16) NOT NULL, "attempt" integer NOT NULL, "agent_id" character varying(200), "actor" character varying(200), "at" TIMESTAMP WITH TIME ZONE NOT NULL, "detail" jsonb, CONSTRAINT "PK_task_events" PRIMARY KEY ("seq"))`,
  `CREATE TABLE "agents" ("id" character varying(200) NOT NULL, "capabilities" jsonb NOT NULL, "host" character varying(255) NOT NULL, "pid" integer NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "running" jsonb NOT NULL, "concurrency" integer NOT NULL, "breakers" jsonb NOT NULL, CONSTRAINT "PK_agents" PRIMARY KEY ("id"))`,
  `CREATE TABLE "store_meta" ("name" character varying(200) NOT NULL, "value" text, "counter" bigint NOT NULL DEFAULT '0', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_store_meta" PRIMARY KEY ("name"))`,
];

/** Same statements for both dialects. */
const INDEXES = [
  `CREATE UNIQUE INDEX "IDX_goals_key" ON "goals" ("key")`,
  `CREATE INDEX "IDX_goals_state" ON "goals" ("state")`,
  `CREATE UNIQUE INDEX "IDX_tasks_goal_key" ON "tasks" ("goal_id", "key")`,
  // One index holds state (rewritten on every transition); type alone never changes.
  `CREATE INDEX "IDX_tasks_state_type" ON "tasks" ("state", "type")`,
  `CREATE INDEX "IDX_tasks_type" ON "tasks" ("type")`,
  // By goal then seq: a goal's history in order (and a task's, filtered within its goal). No
  // index on task_id alone: random ids would scatter every batch's writes over the whole index.
  `CREATE INDEX "IDX_task_events_goal_seq" ON "task_events" ("goal_id", "seq")`,
];

export class InitialSchema1730000000000 implements MigrationInterface {
  name = 'InitialSchema1730000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const pg = queryRunner.connection.options.type === 'postgres';
    for (const sql of [...(pg ? POSTGRES : SQLITE), ...INDEXES]) await queryRunner.query(sql);
    // The event sequence counter: one row, bumped inside every writing transaction.
    await queryRunner.query(
      pg
        ? `INSERT INTO "store_meta" ("name", "counter", "updated_at") VALUES ('seq', 0, now())`
        : `INSERT INTO "store_meta" ("name", "counter", "updated_at") VALUES ('seq', 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['store_meta', 'agents', 'task_events', 'tasks', 'goals']) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
