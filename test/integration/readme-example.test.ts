/**
 * The README's library example runs as written: its code block is taken from README.md, with
 * `'agentq'` pointing at this checkout's src/index.ts and, as the contract allows, a unique
 * prefix and the test Redis's host and port; run with tsx in a fresh directory, it prints a
 * status report with every task DONE and exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

const ROOT = resolve(__dirname, '../..');

/** The ```ts block that follows "Or from code" in the README. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const from = readme.indexOf('```ts', readme.indexOf('Or from code'));
  const to = readme.indexOf('```', from + 5);
  if (from < 0 || to < 0) throw new Error('README.md: the library example is gone');
  return readme.slice(from + 5, to);
}

function asScript(example: string, prefix: string): string {
  const { hostname, port } = new URL(REDIS_URL);
  const lines = example.trim().split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const body = lines.filter((l) => !l.startsWith('import '));
  const src = JSON.stringify(join(ROOT, 'src', 'index.ts'));
  return [
    ...imports.map((l) => l.replace("'agentq'", src)),
    'void (async () => {',
    ...body.map((l) =>
      l.replace(
        "{ host: 'localhost', port: 6379 }",
        `{ host: '${hostname}', port: ${port}, prefix: '${prefix}' }`,
      ),
    ),
    '})().catch((error) => { console.error(error); process.exitCode = 1; });',
  ].join('\n');
}

describe("the README's library example", () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-readme-example-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs as written and reports every task DONE', async () => {
    const script = join(dir, 'example.ts');
    writeFileSync(script, asScript(readmeExample(), uniquePrefix('readme-ex')));
    const run = await new Promise<{ code: number | null; out: string }>((done, fail) => {
      const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), script], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      // Bounded: an example that never ends (its goal stuck) is killed and fails here.
      const bound = setTimeout(() => child.kill('SIGKILL'), 45_000);
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', fail);
      child.on('close', (code) => {
        clearTimeout(bound);
        done({ code, out });
      });
    });
    expect(run.out).toMatch(/DONE/);
    expect(run.out).toMatch(/Goals: 0 active/);
    expect(run.code).toBe(0);
  });
});
