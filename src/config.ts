/**
 * The one place that reads the environment. `loadConfig()` validates every variable once and
 * returns a frozen, typed object; a bad value gives one line naming the variable and the forms
 * it accepts (an `InputError`, exit code 2 in the CLI). CLI flags override through `overrides`.
 */
import { InputError } from './errors';

export type DbConfig =
  | { backend: 'sqlite'; path: string }
  | { backend: 'postgres'; url: string; schema?: string }
  | { backend: 'json'; dir: string };

export interface RedisConfig {
  /** As given, for messages (password masked). */
  display: string;
  url: string;
  host: string;
  port: number;
  tls: boolean;
  /** Cluster start-up nodes when REDIS_URL lists several, or uses `redis+cluster://`. */
  clusterNodes: Array<{ host: string; port: number }> | null;
}

export interface AgentqConfig {
  redis: RedisConfig;
  db: DbConfig;
  /** BullMQ key prefix; keys live under the hash tag `{prefix}` so a deployment fits a cluster. */
  prefix: string;
  channelPrefix: string;
  host: string;
  port: number;
  token: string | null;
  readonlyToken: string | null;
  shards: number;
  llm: { url: string; model: string; apiKey: string | null } | null;
  templatesDir: string | null;
  otlpEndpoint: string | null;
  /** How long a finished goal's jobs stay in Redis (Bull Board shows them); SQL keeps them for good. */
  retentionMs: number;
}

const REDIS_FORMS =
  'redis://[user:password@]host[:port][/db], rediss://… for TLS, a comma-separated list of ' +
  'host:port cluster nodes, or redis+cluster://host:port[,host:port…]';
const DB_FORMS = 'sqlite:PATH, postgres://user@host[:port]/db[?schema=NAME], or json:DIR';

/** Parses REDIS_URL. Exported for tests and for `--redis` flags. */
export function parseRedisUrl(raw: string, name = 'REDIS_URL'): RedisConfig {
  const bad = () => new InputError(`'${mask(raw)}' is not a Redis URL; use ${REDIS_FORMS}`, name);
  const value = raw.trim();
  if (value.startsWith('redis+cluster://') || (!value.includes('://') && value.includes(','))) {
    const list = value.replace(/^redis\+cluster:\/\//, '').split(',');
    const nodes = list.map((entry) => {
      const [host, port] = entry.trim().split(':');
      const n = Number(port ?? 6379);
      if (!host || !Number.isInteger(n) || n <= 0 || n > 65535) throw bad();
      return { host, port: n };
    });
    const first = nodes[0]!;
    return {
      display: mask(value),
      url: `redis://${first.host}:${first.port}`,
      host: first.host,
      port: first.port,
      tls: false,
      clusterNodes: nodes,
    };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad();
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw bad();
  if (!url.hostname) throw bad();
  const port = url.port ? Number(url.port) : 6379;
  return {
    display: mask(value),
    url: value,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    tls: url.protocol === 'rediss:',
    clusterNodes: null,
  };
}

/** Parses AGENTQ_DB. */
export function parseDbUrl(raw: string, name = 'AGENTQ_DB'): DbConfig {
  const value = raw.trim();
  const bad = () => new InputError(`'${mask(value)}' is not a database; use ${DB_FORMS}`, name);
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw bad();
    return { backend: 'sqlite', path };
  }
  if (value.startsWith('json:')) {
    const dir = value.slice('json:'.length);
    if (!dir) throw bad();
    return { backend: 'json', dir };
  }
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw bad();
    }
    if (!url.hostname) throw bad();
    const schema = url.searchParams.get('schema') ?? undefined;
    if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new InputError(`schema '${schema}' must be a plain SQL identifier`, name);
    }
    url.searchParams.delete('schema');
    return { backend: 'postgres', url: url.toString(), ...(schema ? { schema } : {}) };
  }
  throw bad();
}

/** Hides the password of a URL so it never reaches a log or an error message. */
export function mask(url: string): string {
  // Up to the LAST '@' before the path: a password may hold '@' and ':' (URL parsers agree).
  return url.replace(/(\/\/[^:/@]*:)[^/]*@/, '$1***@');
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InputError(`'${raw}' must be a whole number from ${min} to ${max}`, name);
  }
  return n;
}

function identifier(env: Env, name: string, fallback: string): string {
  const raw = env[name] ?? fallback;
  if (!/^[A-Za-z0-9_.-]{0,64}$/.test(raw)) {
    throw new InputError(`'${raw}' may hold only letters, digits, '_', '-' and '.'`, name);
  }
  return raw;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Environment variable names, for docs and `--help`. */
export const CONFIG_VARIABLES = [
  'REDIS_URL',
  'AGENTQ_DB',
  'AGENTQ_PREFIX',
  'AGENTQ_CHANNEL_PREFIX',
  'AGENTQ_HOST',
  'AGENTQ_PORT',
  'AGENTQ_TOKEN',
  'AGENTQ_READONLY_TOKEN',
  'AGENTQ_SHARDS',
  'AGENTQ_LLM_URL',
  'AGENTQ_LLM_MODEL',
  'AGENTQ_LLM_API_KEY',
  'AGENTQ_TEMPLATES_DIR',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'AGENTQ_RETENTION_MS',
] as const;

/**
 * Reads and validates the configuration. `overrides` are environment-style values from CLI
 * flags (`{ REDIS_URL: '…' }`) and win over `env`.
 */
export function loadConfig(
  overrides: Partial<Record<(typeof CONFIG_VARIABLES)[number], string>> = {},
  env: Env = process.env,
): Readonly<AgentqConfig> {
  const all: Env = { ...env, ...stripUndefined(overrides) };
  const prefix = identifier(all, 'AGENTQ_PREFIX', 'agentq');
  if (!prefix) throw new InputError('must not be empty', 'AGENTQ_PREFIX');
  const llmUrl = all.AGENTQ_LLM_URL || null;
  const config: AgentqConfig = {
    redis: parseRedisUrl(all.REDIS_URL || 'redis://127.0.0.1:6379'),
    db: parseDbUrl(all.AGENTQ_DB || 'sqlite:.agentq/agentq.db'),
    prefix,
    channelPrefix: identifier(all, 'AGENTQ_CHANNEL_PREFIX', ''),
    host: all.AGENTQ_HOST || '127.0.0.1',
    port: int(all, 'AGENTQ_PORT', 3000, 0, 65535),
    token: all.AGENTQ_TOKEN || null,
    readonlyToken: all.AGENTQ_READONLY_TOKEN || null,
    shards: int(all, 'AGENTQ_SHARDS', 1, 1, 1024),
    llm: llmUrl
      ? {
          url: llmUrl,
          model: all.AGENTQ_LLM_MODEL || 'gpt-4o-mini',
          apiKey: all.AGENTQ_LLM_API_KEY || all.OPENAI_API_KEY || null,
        }
      : null,
    templatesDir: all.AGENTQ_TEMPLATES_DIR || null,
    otlpEndpoint: all.OTEL_EXPORTER_OTLP_ENDPOINT || null,
    retentionMs: int(all, 'AGENTQ_RETENTION_MS', 3_600_000, 0, 30 * 24 * 3_600_000),
  };
  if (config.token && config.readonlyToken && config.token === config.readonlyToken) {
    throw new InputError('must differ from AGENTQ_TOKEN', 'AGENTQ_READONLY_TOKEN');
  }
  return deepFreeze(config);
}

function stripUndefined(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
