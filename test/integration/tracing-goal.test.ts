/**
 * Tracing through bullmq-otel: with OTEL_EXPORTER_OTLP_ENDPOINT set, a goal submitted by
 * createAgentSystem and run by an `agentq worker` child process yields spans (OTLP/HTTP JSON, to a
 * local server playing the collector) that share one trace id, and every task's `process` span
 * reaches the goal span through its parent chain. Without the variable no OpenTelemetry module
 * is loaded at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GOAL_ID_ATTRIBUTE } from '../../src/tracing-goal-flow';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers', 'behaviours.cjs');

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpExport {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
}

/** The collector: every span of every JSON export POSTed to /v1/traces. */
function startCollector(): Promise<{ server: Server; url: string; spans: OtlpSpan[] }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
        for (const r of body.resourceSpans ?? [])
          for (const s of r.scopeSpans ?? []) spans.push(...(s.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      done({ server, url: `http://127.0.0.1:${port}`, spans });
    }),
  );
}

function attribute(span: OtlpSpan, key: string): string | undefined {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : String(value.intValue));
}

const prefix = uniquePrefix('trace');
const dir = mkdtempSync(join(tmpdir(), 'agentq-trace-'));
let collector: Awaited<ReturnType<typeof startCollector>>;
let worker: ChildProcess | null = null;

/**
 * Runs a script through tsx in a child process; its stdout is the result. Asynchronously: the
 * collector in this process must keep answering while the script exports.
 */
async function runScript(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', '-e', script], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  await new Promise((done) => child.once('close', done));
  return { stdout, stderr };
}

// The OTLP exporter loads `http` with a dynamic import(), which Jest's VM refuses: every traced
// part runs in a child process (as it does in production); this process only plays the collector.
const SUBMIT_GOAL = `
  const { createAgentSystem } = require('./src/index.ts');
  (async () => {
    const system = await createAgentSystem();
    // A diamond: b and c depend on a, d on both (d's second dependency is a link).
    const { goalId, tasks } = await system.supervisor.submitPlan({
      goal: 'Trace a diamond',
      tasks: [
        { key: 'a', title: 'A', type: 'work' },
        { key: 'b', title: 'B', type: 'work', dependsOn: ['a'] },
        { key: 'c', title: 'C', type: 'work', dependsOn: ['a'] },
        { key: 'd', title: 'D', type: 'work', dependsOn: ['b', 'c'] },
      ],
    });
    const deadline = Date.now() + 30000;
    let goal = await system.registry.getGoal(goalId);
    while (goal.state !== 'DONE' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      goal = await system.registry.getGoal(goalId);
    }
    await system.close();
    process.stdout.write(JSON.stringify({ goalId, state: goal.state, taskIds: tasks.map((t) => t.id) }));
  })();`;

describe('tracing through bullmq-otel', () => {
  beforeAll(async () => {
    collector = await startCollector();
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGKILL');
      await new Promise((done) => worker!.once('exit', done));
    }
    collector.server.closeAllConnections();
    await new Promise((done) => collector.server.close(done));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a goal run by an agent process is one trace whose task spans hang under the goal span', async () => {
    const env = {
      ...process.env,
      REDIS_URL,
      AGENTQ_PREFIX: prefix,
      AGENTQ_DB: `sqlite:${join(dir, 'agentq.db')}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    };
    let output = '';
    worker = spawn(
      process.execPath,
      [BIN, 'worker', '--id', 'tracer', '--capabilities', 'work', '--handlers', HANDLERS],
      { stdio: ['ignore', 'pipe', 'pipe'], env },
    );
    worker.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    worker.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(`the worker to start (output: ${output})`, () => output.includes('serves'));

    const submitted = await runScript(SUBMIT_GOAL, env);
    expect(submitted.stderr).toBe('');
    const { goalId, state, taskIds } = JSON.parse(submitted.stdout) as {
      goalId: string;
      state: string;
      taskIds: string[];
    };
    expect(state).toBe('DONE');

    // The worker flushes its spans when it stops (the submitter did at its close).
    const exited = new Promise((done) => worker!.once('exit', done));
    worker.kill('SIGTERM');
    await exited;

    const goalSpan = await waitFor('the goal span', () =>
      collector.spans.find((s) => attribute(s, GOAL_ID_ATTRIBUTE) === goalId),
    );
    expect(goalSpan.name).toBe(`goal ${goalId}`);
    // One `process` span per task, and one for the goal's root job (its internal worker).
    const jobIds = [...taskIds, goalId];
    const processSpans = await waitFor('a process span per task and for the goal root', () => {
      const found = collector.spans.filter(
        (s) => s.name.startsWith('process') && jobIds.includes(attribute(s, 'bullmq.job.id') ?? ''),
      );
      return found.length >= jobIds.length ? found : null;
    });

    const byId = new Map(collector.spans.map((s) => [s.spanId, s]));
    for (const span of processSpans) {
      expect(span.traceId).toBe(goalSpan.traceId);
      // Walk up: every parent was exported, and the chain reaches the goal span.
      const chain: string[] = [];
      let at: OtlpSpan | undefined = span;
      while (at && at.spanId !== goalSpan.spanId) {
        chain.push(at.name);
        at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined;
      }
      expect({ task: attribute(span, 'bullmq.job.id'), reached: at?.spanId }).toEqual({
        task: attribute(span, 'bullmq.job.id'),
        reached: goalSpan.spanId,
      });
      process.stdout.write(`${attribute(span, 'bullmq.job.id')}: ${chain.join(' < ')} < goal\n`);
    }
    process.stdout.write(`spans exported: ${collector.spans.length}\n`);
  });

  it('without OTEL_EXPORTER_OTLP_ENDPOINT no OpenTelemetry SDK is loaded', async () => {
    const env = { ...process.env };
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    const run = await runScript(
      `const { createAgentSystem } = require('./src/index.ts');
      createAgentSystem({ config: { REDIS_URL: ${JSON.stringify(REDIS_URL)},
          AGENTQ_PREFIX: ${JSON.stringify(`${prefix}x`)},
          AGENTQ_DB: ${JSON.stringify(`sqlite:${join(dir, 'plain.db')}`)} } })
        .then(async (system) => {
          await system.supervisor.submitPlan({ goal: 'Untraced', tasks: [{ key: 'a', title: 'A', type: 'work' }] });
          const loaded = Object.keys(require.cache).filter((k) => /opentelemetry|bullmq-otel/.test(k))
            .map((k) => k.replace(/^.*node_modules\\/(@opentelemetry\\/[^/]+|[^/]+)\\/.*$/, '$1'));
          await system.close();
          process.stdout.write(JSON.stringify(loaded));
        });`,
      env,
    );
    expect(run.stderr).toBe('');
    // prom-client loads the OpenTelemetry API (a no-op facade) for exemplars; nothing else may load.
    expect([...new Set(JSON.parse(run.stdout) as string[])]).toEqual(
      expect.not.arrayContaining([
        expect.stringMatching(/sdk|exporter|resources|otlp|context-async-hooks|bullmq-otel/),
      ]),
    );
  });
});
