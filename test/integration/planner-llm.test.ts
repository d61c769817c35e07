/**
 * The LLM planner against a local HTTP server that speaks OpenAI's chat-completions API: a valid
 * answer, an invalid then a valid one, two invalid ones (template fallback), and a server that is
 * down (template fallback).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LlmPlanner } from '../../src/queues/planners/llm-planner';
import { TemplatePlanner } from '../../src/queues/planners/template-planner';

const VALID = {
  goal: 'ignored',
  tasks: [
    { key: 'design', title: 'Design', type: 'design', priority: 8, dependsOn: [] },
    { key: 'build', title: 'Build', type: 'backend', dependsOn: ['design'] },
  ],
};
const INVALID = { goal: 'x', tasks: [{ key: 'a', title: 'A', type: 'dev', dependsOn: ['a'] }] };

describe('LlmPlanner', () => {
  let server: Server;
  let url: string;
  let answers: string[] = [];
  const requests: Array<{ model: string; messages: Array<{ role: string; content: string }> }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push(JSON.parse(body) as (typeof requests)[number]);
        const content = answers.shift() ?? 'no more answers';
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }] }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    requests.length = 0;
  });

  const planner = (base = url) =>
    new LlmPlanner({
      url: base,
      model: 'test-model',
      apiKey: 'k',
      fallback: new TemplatePlanner(),
    });

  it('uses a valid answer', async () => {
    answers = ['```json\n' + JSON.stringify(VALID) + '\n```'];
    const planned = await planner().plan('Build a thing', { key: 'k1' });
    expect(planned.planner).toBe('llm');
    expect(planned.plan.goal).toBe('Build a thing');
    expect(planned.plan.key).toBe('k1');
    expect(planned.plan.tasks.map((t) => t.key)).toEqual(['design', 'build']);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.model).toBe('test-model');
  });

  it('asks once more after an invalid answer, telling the model why', async () => {
    answers = [JSON.stringify(INVALID), JSON.stringify(VALID)];
    const planned = await planner().plan('Build a thing');
    expect(planned.planner).toBe('llm');
    expect(requests).toHaveLength(2);
    expect(requests[1]!.messages.at(-1)!.content).toMatch(/cycle: a → a/);
  });

  it('falls back to the templates after two invalid answers', async () => {
    answers = ['not json at all', JSON.stringify(INVALID)];
    const planned = await planner().plan('Fix the login bug');
    expect(planned.planner).toBe('template:bugfix (llm fallback)');
    expect(requests).toHaveLength(2);
  });

  it('falls back to the templates when the server is down', async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise((resolve) => down.close(resolve));
    const planned = await planner(`http://127.0.0.1:${port}/v1`).plan('Build user authentication');
    expect(planned.planner).toBe('template:feature (llm fallback)');
  });
});
