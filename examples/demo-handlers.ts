/**
 * The demo's handlers: small real work. Files are written and committed in the task's git
 * worktree; `testing` runs a shell command through the shell executor; `backend` ("Implement the
 * API") fails its first attempt (a flaky step, retried with backoff), then spawns one task per
 * endpoint and a join that wires them (ctx.spawn: the goal grows while it runs); `security` (an
 * optional task) fails for good and ends in the dead-letter queue without failing the goal;
 * `deploy` runs only after a person (or the demo, in their place) approved it.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { UnrecoverableError } from 'bullmq';
import type {
  HandlerMap,
  TaskContext,
  TaskHandler,
  TaskInput,
} from '../src/processors/handler-types';
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

/** The endpoints of docs/auth-design.md: one spawned task each, file name → route. */
export const ENDPOINTS: { [name: string]: string } = {
  login: 'POST /login',
  logout: 'POST /logout',
  me: 'GET /me',
};

/** The spawned tasks of "Implement the API": one per endpoint, then the router that joins them. */
function apiTasks() {
  const keys = Object.keys(ENDPOINTS).map((name) => `api-${name}`);
  return [
    ...Object.entries(ENDPOINTS).map(([name, route]) => ({
      key: `api-${name}`,
      title: `Implement ${route}`,
      type: 'backend',
      data: { endpoint: name, route },
    })),
    { key: 'api-join', title: 'Wire the router', type: 'backend', dependsOn: keys },
  ];
}

const backend: TaskHandler = async (task, ctx) => {
  const endpoint = task.data.endpoint;
  if (typeof endpoint === 'string') {
    return commitFiles(task, ctx, {
      [`src/routes/${endpoint}.js`]: `// ${String(task.data.route)}\nmodule.exports = (req, res) => res.end();\n`,
    });
  }
  if (task.key === 'api-join') {
    const routes = Object.keys(ctx.dependencies).sort();
    const lines = routes.map((k) => `  require('./routes/${k.slice('api-'.length)}'),`);
    const done = await commitFiles(task, ctx, {
      'src/router.js': `module.exports = [\n${lines.join('\n')}\n];\n`,
    });
    return { ...done, routes };
  }
  // "Implement the API" itself.
  if (task.attempt === 1) throw new Error('package registry timed out (a flaky first attempt)');
  const done = await commitFiles(task, ctx, {
    'src/auth.js':
      "const crypto = require('node:crypto');\n" +
      'exports.hash = (password, salt) => crypto.scryptSync(password, salt, 32).toString("hex");\n',
  });
  // This task ends once everything it spawned has ended; its dependents get their results too.
  const spawned = await ctx.spawn(apiTasks());
  await ctx.log(`spawned ${spawned.map((s) => s.key).join(', ')}`);
  return { ...done, spawned: spawned.map((s) => s.key) };
};

export const developerHandlers: HandlerMap = {
  backend,
  frontend: (task, ctx) =>
    commitFiles(task, ctx, {
      'web/login.html':
        '<form method="post" action="/login"><input name="email"><input name="password" type="password"><button>Sign in</button></form>\n',
    }),
  // Runs after the approval task: its result (`{ approved, by, note }`) is a dependency.
  deploy: async (_task, ctx) => {
    const approval = ctx.dependencies.approve as { by?: string } | undefined;
    await ctx.log(`deploying, approved by ${approval?.by ?? 'nobody'}`);
    return { deployed: true, approvedBy: approval?.by ?? null };
  },
};

export const qaHandlers: HandlerMap = {
  // A real command through the shell executor, in the task's worktree.
  testing: createShellHandler(['git', 'log', '--oneline', '-n', '3']),
  security: () => {
    throw new UnrecoverableError('no security scanner is installed on this machine');
  },
};
