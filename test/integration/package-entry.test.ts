/**
 * agentq as a user gets it: `npm pack` of the checkout (which runs `prepare`, the build), the
 * tarball unpacked into a fresh project, then used from CommonJS, ESM, strict TypeScript
 * (`module`/`moduleResolution: node16`, `skipLibCheck: false`) and `npx agentq`.
 *
 * The project is laid out as `npm install <tarball>` lays it out: the package's files exactly
 * as the tarball holds them in node_modules/agentq, its `bin` linked in node_modules/.bin, and
 * each of its declared `dependencies` linked at node_modules/<name> from the checkout's install
 * (the versions of package-lock.json). Installing from the registry would need the network and
 * take minutes; linking keeps the shared install untouched. What the package does not declare
 * (its devDependencies: tsx, typescript's @types, …) is not reachable from node_modules/agentq,
 * so a missing dependency fails here as it would for a user. The project's own TypeScript and
 * @types/node are linked as its devDependencies.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const INSTALLED = join(ROOT, 'node_modules');
/** The seed's names: what DESIGN.md's usage example imports. */
const CONTRACT = [
  'TaskRegistry',
  'RedisCoordinator',
  'SupervisorAgent',
  'InterfaceAgent',
  'AutonomousAgent',
  'UnrecoverableError',
  'createAgentSystem',
];

interface PackResult {
  filename: string;
  files: Array<{ path: string; mode: number }>;
}

interface Manifest {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
}

let work: string;
let app: string;
let packed: PackResult;

function link(name: string, from = INSTALLED): void {
  const target = join(app, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(from, name), target);
}

async function node(args: string[], env: NodeJS.ProcessEnv = {}) {
  return exec(process.execPath, args, { cwd: app, env: { ...process.env, ...env } });
}

// `npm pack` (with the build, when dist/ is stale) and a TypeScript check of the package.
jest.setTimeout(180_000);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'agentq-package-'));
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  packed = (JSON.parse(stdout) as PackResult[])[0]!;

  app = join(work, 'app');
  const pkg = join(app, 'node_modules', 'agentq');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', private: true }),
  );
  await exec('tar', ['-xzf', join(work, packed.filename), '-C', pkg, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Manifest;
  for (const name of Object.keys(manifest.dependencies)) link(name);
  for (const [name, file] of Object.entries(manifest.bin)) {
    mkdirSync(join(app, 'node_modules', '.bin'), { recursive: true });
    chmodSync(join(pkg, file), 0o755);
    symlinkSync(join('..', 'agentq', file), join(app, 'node_modules', '.bin', name));
  }
  // The user's own development tools.
  link('typescript');
  link('@types/node');
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the build, the README and the LICENSE, and no tests, benchmarks or CI', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'dist/index.js',
        'dist/index.mjs',
        'dist/index.d.ts',
        'dist/index.d.mts',
        'dist/cli/bin.js',
      ]),
    );
    const tops = new Set(paths.map((p) => p.split('/')[0]));
    for (const absent of ['test', 'bench', '.ci', 'src', 'scripts', 'examples', 'bin'])
      expect(tops).not.toContain(absent);
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((p) => p.includes('tsbuildinfo') || p.endsWith('.map'))).toEqual([]);
  });

  it('declares no TypeScript loader among its dependencies', () => {
    const manifest = JSON.parse(
      readFileSync(join(app, 'node_modules', 'agentq', 'package.json'), 'utf8'),
    ) as Manifest;
    expect(Object.keys(manifest.dependencies)).not.toEqual(
      expect.arrayContaining(['tsx', 'ts-node', 'esbuild-register']),
    );
  });
});

describe('agentq installed in a fresh project', () => {
  it('works from CommonJS: the seed names, no TypeScript loaded, stack traces untouched', async () => {
    const script = `
      const prepare = Error.prepareStackTrace;
      const agentq = require('agentq');
      const names = ${JSON.stringify(CONTRACT)};
      const kinds = Object.fromEntries(names.map((n) => [n, typeof agentq[n]]));
      const registry = new agentq.TaskRegistry({ backend: 'json', dir: 'tasks' });
      const coordinator = new agentq.RedisCoordinator({ url: 'redis://127.0.0.1:1', prefix: 'pkg' });
      const unrecoverable = new agentq.UnrecoverableError('no') instanceof Error;
      let tsRequirable = true;
      try { require('./user.ts'); } catch { tsRequirable = false; }
      process.stdout.write(JSON.stringify({
        kinds,
        registry: registry instanceof agentq.TaskRegistry,
        coordinator: typeof coordinator.close,
        unrecoverable,
        tsInCache: Object.keys(require.cache).filter((f) => /\\.[cm]?tsx?$/.test(f)),
        agentqFrom: require.resolve('agentq'),
        prepareUnchanged: Error.prepareStackTrace === prepare,
        tsExtension: typeof require.extensions['.ts'],
        tsRequirable,
      }));
      coordinator.close().then(() => process.exit(0));
    `;
    writeFileSync(join(app, 'user.ts'), 'const typed: number = 1;\nexport = typed;\n');
    const { stdout } = await node(['-e', script]);
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    expect(seen).toEqual({
      kinds: Object.fromEntries(CONTRACT.map((n) => [n, 'function'])),
      registry: true,
      coordinator: 'function',
      unrecoverable: true,
      tsInCache: [],
      agentqFrom: join(app, 'node_modules', 'agentq', 'dist', 'index.js'),
      prepareUnchanged: true,
      tsExtension: 'undefined',
      tsRequirable: false,
    });
  });

  it('works from ESM with named imports, the same objects as CommonJS', async () => {
    const names = CONTRACT.join(', ');
    writeFileSync(
      join(app, 'esm.mjs'),
      `import { ${names} } from 'agentq';
       import agentq from 'agentq';
       import { createRequire } from 'node:module';
       const cjs = createRequire(import.meta.url)('agentq');
       const all = { ${names} };
       process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(all).map(
         ([n, v]) => [n, typeof v === 'function' && v === cjs[n] && agentq[n] === v]))));
      `,
    );
    const { stdout } = await node(['esm.mjs']);
    expect(JSON.parse(stdout)).toEqual(Object.fromEntries(CONTRACT.map((n) => [n, true])));
  });

  it('compiles under strict TypeScript (node16, skipLibCheck false) from CommonJS and ESM', async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['use.ts', 'use-esm.mts'],
      }),
    );
    const usage = (from: string) => `
      import { AutonomousAgent, createAgentSystem, InterfaceAgent, RedisCoordinator,
        SupervisorAgent, TaskRegistry, UnrecoverableError, type HandlerMap } from '${from}';
      const registry: TaskRegistry = new TaskRegistry({ backend: 'sqlite', path: './agentq.db' });
      const redis = new RedisCoordinator({ url: 'redis://127.0.0.1:6379', prefix: 'app' });
      const supervisor = new SupervisorAgent(registry, redis);
      const iface = new InterfaceAgent(registry, redis, { supervisor });
      const handlers: HandlerMap = {
        work: async (task) => {
          if (!task.title) throw new UnrecoverableError('no title');
          return { done: task.id };
        },
      };
      const agent = new AutonomousAgent({
        agentId: 'a1',
        capabilities: ['work'],
        taskRegistry: registry,
        redisCoordinator: redis,
        handlers,
      });
      export const parts = [iface, agent, createAgentSystem] as const;
    `;
    writeFileSync(join(app, 'use.ts'), usage('agentq'));
    writeFileSync(join(app, 'use-esm.mts'), usage('agentq'));
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await node([tsc, '-p', 'tsconfig.json']).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(`${result.stdout}${result.stderr}`).toBe('');
  });

  it('runs `npx agentq --version` from the installed bin', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
    const { stdout } = await exec('npx', ['--no-install', 'agentq', '--version'], { cwd: app });
    expect(stdout.trim()).toBe(version);
  });

  it('loads a TypeScript handler module only through the project’s own tsx', async () => {
    writeFileSync(
      join(app, 'handlers.ts'),
      'const answer: number = 42;\nexport default { work: async () => answer };\n',
    );
    const script = `
      const { loadHandlerModule } = require('agentq');
      loadHandlerModule('handlers.ts').then(
        async (handlers) => {
          let plain = 'loads';
          try { require('./user.ts'); } catch { plain = 'fails'; }
          process.stdout.write(JSON.stringify({ result: await handlers.work(), plain }));
        },
        (error) => process.stdout.write(JSON.stringify({ error: error.message })),
      );
    `;
    const without = JSON.parse((await node(['-e', script])).stdout) as { error: string };
    expect(without.error).toMatch(
      /handlers\.ts is TypeScript.*install it \(npm install --save-dev tsx\)/,
    );

    // The project installs tsx: that module (and only it) loads through it.
    link('tsx');
    expect(existsSync(join(app, 'node_modules', 'tsx', 'package.json'))).toBe(true);
    const withTsx = JSON.parse((await node(['-e', script])).stdout) as unknown;
    expect(withTsx).toEqual({ result: 42, plain: 'fails' });
  });
});
