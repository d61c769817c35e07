/**
 * CLI read commands say when no mirror runs anywhere (SQL then stops following Redis), after
 * their answer and on stderr only; with a mirror candidate leading they say nothing more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_MIRROR_WARNING } from '../../src/cli/context';
import { TaskRegistry } from '../../src/entities/task-registry';
import { joinMirror } from '../../src/mirror/shared-mirror';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';
import { runAgentq as agentq } from '../helpers/run-cli';

describe('CLI read commands without a mirror', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-nomirror-'));
  const dbPath = join(dir, 'agentq.db');
  const prefix = uniquePrefix('nomirror');
  const registry = new TaskRegistry({ backend: 'sqlite', path: dbPath });
  const redis = new RedisCoordinator({ url: REDIS_URL, prefix });
  const common = ['--redis', REDIS_URL, '--db', `sqlite:${dbPath}`, '--prefix', prefix];

  afterAll(async () => {
    await redis.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('warn once on stderr when no mirror runs, and not when one leads', async () => {
    const supervisor = new SupervisorAgent(registry, redis);
    const task = await supervisor.createTask({ title: 'Wait', type: 'nobody' });

    const alone = await agentq(['task', 'show', task.id, '--json', ...common]);
    expect(alone.code).toBe(0);
    expect(JSON.parse(alone.stdout).task.id).toBe(task.id);
    expect(alone.stderr).toBe(`${NO_MIRROR_WARNING}\n`);

    const mirror = joinMirror(registry, redis);
    try {
      await waitFor('the mirror leading', async () => mirror.service.isLeader);
      const mirrored = await agentq(['task', 'show', task.id, '--json', ...common]);
      expect(mirrored.code).toBe(0);
      expect(mirrored.stderr).toBe('');
    } finally {
      await mirror.close();
    }
  });
});
