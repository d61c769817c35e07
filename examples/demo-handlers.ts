/**
 * The demo's handlers: small real work. Files are written and committed in the task's git
 * worktree; `testing` runs a shell command through the shell executor; `backend` fails its first
 * attempt (a flaky step, retried with backoff); `security` (an optional task) fails for good and
 * ends in the dead-letter queue without failing the goal.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { UnrecoverableError } from 'bullmq';
import type { HandlerMap, TaskContext, TaskInput } from '../src/processors/handler-types';
import { createShellHandler } from '../src/processors/shell-executor';

const run = promisify(execFile);

/** Writes `files` in the task's worktree and commits them on its branch; returns the commit. */
async function commitFiles(
  task: TaskInput,
  ctx: TaskContext,
  files: { [path: string]: string },
): Promise<{ files: string[]; commit: string }> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(ctx.workdir, path)), { recursive: true });
    await writeFile(join(ctx.workdir, path), content);
  }
  const git = (...args: string[]) => run('git', args, { cwd: ctx.workdir });
  await git('add', '--', ...Object.keys(files));
  await git(
    'commit',
    '-q',
    '-m',
    `${task.key}: ${task.title}`,
    '--author',
    `${ctx.agentId} <${ctx.agentId}@agentq.invalid>`,
  );
  const { stdout } = await git('rev-parse', '--short', 'HEAD');
  await ctx.log(`committed ${Object.keys(files).join(', ')} as ${stdout.trim()}`);
  return { files: Object.keys(files), commit: stdout.trim() };
}

export const architectHandlers: HandlerMap = {
  design: (task, ctx) =>
    commitFiles(task, ctx, {
      'docs/auth-design.md':
        '# Authentication\n\n- users(id, email, password_hash)\n- sessions(id, user_id, expires_at)\n' +
        '- POST /login, POST /logout, GET /me\n',
    }),
  review: async (_task, ctx) => {
    const reviewed = Object.keys(ctx.dependencies);
    await ctx.progress({ qualityScore: 0.9 });
    return { approved: true, reviewed };
  },
};

export const developerHandlers: HandlerMap = {
  backend: async (task, ctx) => {
    if (task.attempt === 1) throw new Error('package registry timed out (a flaky first attempt)');
    return commitFiles(task, ctx, {
      'src/auth.js':
        "const crypto = require('node:crypto');\n" +
        'exports.hash = (password, salt) => crypto.scryptSync(password, salt, 32).toString("hex");\n',
    });
  },
  frontend: (task, ctx) =>
    commitFiles(task, ctx, {
      'web/login.html':
        '<form method="post" action="/login"><input name="email"><input name="password" type="password"><button>Sign in</button></form>\n',
    }),
};

export const qaHandlers: HandlerMap = {
  // A real command through the shell executor, in the task's worktree.
  testing: createShellHandler(['git', 'log', '--oneline', '-n', '3']),
  security: () => {
    throw new UnrecoverableError('no security scanner is installed on this machine');
  },
};
