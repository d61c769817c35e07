/**
 * Repair in an `agentq worker` process (issue 15 point 4, the CLI's wiring): with AGENTQ_LLM_URL
 * set, the worker asks the model (a local HTTP server speaking chat-completions, the one fake)
 * for the patch when a task of a replanning goal fails for good; the goal ends DONE with the
 * model's replacement, and the revision is the LLM's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAgentSystem, type AgentSystem } from '../../src/agent-system';
import { revisionsOf } from '../../src/queues/revisions';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers', 'spawning.cjs');

describe('repair by an agentq worker with an LLM endpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-repair-worker-'));
  const requests: string[] = [];
  let server: Server;
  let system: AgentSystem;
  let worker: ChildProcess;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push(body);
        const content = JSON.stringify({
          tasks: [
            {
              key: 'api-fixed',
              title: 'API, fixed',
              type: 'flaky',
              dependsOn: ['design'],
              replaces: 'api',
            },
          ],
        });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const env = {
      ...process.env,
      REDIS_URL,
      AGENTQ_PREFIX: uniquePrefix('repairworker'),
      AGENTQ_DB: `sqlite:${join(dir, 'agentq.db')}`,
      AGENTQ_LLM_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      AGENTQ_LLM_MODEL: 'test-model',
    };
    system = await createAgentSystem({ config: env });
    let output = '';
    worker = spawn(
      process.execPath,
      [BIN, 'worker', '--id', 'repair-worker', '--capabilities', 'flaky', '--handlers', HANDLERS],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    worker.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    worker.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(`the worker to start (output: ${output})`, () => {
      if (worker.exitCode !== null) throw new Error(output);
      return output.includes('serves');
    });
  });

  afterAll(async () => {
    if (worker?.exitCode === null) {
      const exited = new Promise((done) => worker.once('exit', done));
      worker.kill('SIGTERM');
      await exited;
    }
    await system?.close();
    await new Promise((done) => server.close(done));
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies the model’s patch and ends the goal DONE', async () => {
    const { goalId } = await system.supervisor.submitPlan({
      goal: 'repair through the worker',
      onFailure: 'replan',
      tasks: [
        { key: 'design', title: 'Design', type: 'flaky' },
        {
          key: 'api',
          title: 'API',
          type: 'flaky',
          dependsOn: ['design'],
          attempts: 1,
          data: { failKeys: ['api'] },
        },
        { key: 'deploy', title: 'Deploy', type: 'flaky', dependsOn: ['api'] },
      ],
    });
    const goal = await waitFor(
      'the goal DONE in SQL',
      async () => {
        const g = await system.supervisor.getGoal(goalId);
        return g.goal.state === 'DONE' ? g : null;
      },
      { timeoutMs: 60000 },
    );
    expect(requests).toHaveLength(1);
    expect(JSON.parse(requests[0]!)).toMatchObject({ model: 'test-model' });
    const byKey = new Map(goal.tasks.map((t) => [t.key, t]));
    expect(byKey.get('api')!.result).toMatchObject({ from: 'api-fixed' });
    expect(byKey.get('deploy')!.result).toEqual({ from: 'deploy', saw: ['api', 'api-fixed'] });
    expect(revisionsOf(goal.tasks)).toEqual([
      expect.objectContaining({ revision: 1, replacement: 'api-fixed', actor: 'repair:llm' }),
    ]);
  });
});
