import { loadConfig, mask, parseDbUrl, parseRedisUrl } from '../../src/config';
import { InputError } from '../../src/errors';

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({}, {});
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.db).toEqual({ backend: 'sqlite', path: '.agentq/agentq.db' });
    expect(config.prefix).toBe('agentq');
    expect(config.port).toBe(3000);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.redis)).toBe(true);
  });

  it('names the variable and the accepted forms for a bad REDIS_URL', () => {
    expect(() => loadConfig({}, { REDIS_URL: 'http://x' })).toThrow(InputError);
    expect(() => loadConfig({}, { REDIS_URL: 'http://x' })).toThrow(/^REDIS_URL: .*redis:\/\//);
  });

  it('names the variable and the accepted forms for a bad AGENTQ_DB', () => {
    expect(() => loadConfig({}, { AGENTQ_DB: 'mysql://x' })).toThrow(
      /^AGENTQ_DB: .*sqlite:PATH, postgres:\/\/.*json:DIR/,
    );
  });

  it('lets overrides (CLI flags) win over the environment', () => {
    const config = loadConfig({ AGENTQ_PORT: '4000' }, { AGENTQ_PORT: '3001' });
    expect(config.port).toBe(4000);
  });

  it('reads TLS, passwords and cluster node lists', () => {
    expect(parseRedisUrl('rediss://:pw@h:6380').tls).toBe(true);
    expect(parseRedisUrl('rediss://:pw@h:6380').display).toBe('rediss://:***@h:6380');
    expect(parseRedisUrl('redis+cluster://a:7000,b:7001').clusterNodes).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
  });

  it('reads every database form', () => {
    expect(parseDbUrl('json:./tasks')).toEqual({ backend: 'json', dir: './tasks' });
    expect(parseDbUrl('postgres://u@h/db?schema=s1')).toEqual({
      backend: 'postgres',
      url: 'postgres://u@h/db',
      schema: 's1',
    });
  });

  it('never shows a password', () => {
    expect(mask('redis://user:secret@host:1')).toBe('redis://user:***@host:1');
  });
});
