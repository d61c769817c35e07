/**
 * A handler module for `agentq worker --handlers examples/feature-handlers.ts`: one handler per
 * capability of the built-in `feature` template (design → backend and frontend → testing →
 * review and documentation). Each writes a small file in its workdir and hands a summary on;
 * `ctx.dependencies` holds every dependency's result by key.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HandlerMap, TaskContext, TaskInput } from '../src/processors/handler-types';

async function note(task: TaskInput, ctx: TaskContext, text: string) {
  const file = join(ctx.workdir, `${task.key}.md`);
  await writeFile(file, `# ${task.title}\n\n${text}\n`);
  await ctx.log(`wrote ${file}`);
  return { key: task.key, by: ctx.agentId, file, after: Object.keys(ctx.dependencies).sort() };
}

const handlers: HandlerMap = {
  design: (task, ctx) => note(task, ctx, `Schema and endpoints for: ${task.description}`),
  backend: (task, ctx) => note(task, ctx, 'Routes, password hashing, sessions.'),
  frontend: (task, ctx) => note(task, ctx, 'Login and sign-up pages.'),
  testing: (task, ctx) => note(task, ctx, 'Integration tests of the login flow.'),
  review: async (task, ctx) => {
    await ctx.progress({ qualityScore: 0.9 });
    return note(task, ctx, 'Reviewed: ready to merge.');
  },
  documentation: (task, ctx) => note(task, ctx, 'How to sign up and log in.'),
};

export default handlers;
