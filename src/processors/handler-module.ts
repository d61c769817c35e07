/**
 * Loads a user's handler module (`agentq worker --handlers FILE`, and the sandbox child): a
 * CommonJS or ES module whose default export, or `module.exports`, maps capability → function.
 * The key `'*'` (`ANY_CAPABILITY`) holds the handler of every capability without one of its own.
 * Anything else is an `InputError` naming the file, so a typo fails at start, not per task.
 *
 * A TypeScript module (`.ts`, `.cts`, `.mts`) is loaded through the tsx of the user's project
 * (found from the module's folder, then the working directory), for that one module and what it
 * imports: agentq itself ships JavaScript and loads no TypeScript support. Without tsx it is an
 * `InputError` saying to install it or to compile the module (unless the process already loads
 * TypeScript through ts-node or ts-jest: then as any other module).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { coerceError, InputError } from '../errors';
import type { HandlerMap, TaskHandler } from './handler-types';

const FIELD = 'handlers';

/** The handler-map key of the handler for capabilities without one of their own. */
export const ANY_CAPABILITY = '*';

/** The handler of `capability` in `handlers`: its own, else the `'*'` one, else undefined. */
export function handlerFor(handlers: HandlerMap, capability: string): TaskHandler | undefined {
  const own = Object.hasOwn(handlers, capability) ? handlers[capability] : undefined;
  if (typeof own === 'function') return own;
  const any = Object.hasOwn(handlers, ANY_CAPABILITY) ? handlers[ANY_CAPABILITY] : undefined;
  return typeof any === 'function' ? any : undefined;
}

/** `import()` that TypeScript's CommonJS output keeps as a real dynamic import (for .mjs files). */
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Unwraps `export default`, `module.exports = …` and the interop shapes between them. */
function exportedMap(loaded: unknown): unknown {
  let current = loaded;
  // ES namespaces, and CommonJS compiled from `export default`, hold the map under `default`.
  for (let depth = 0; depth < 2 && isRecord(current) && isRecord(current.default); depth++) {
    current = current.default;
  }
  return current;
}

/** Checks the module's export is a map of functions and returns it. */
export function toHandlerMap(loaded: unknown, file: string): HandlerMap {
  const map = exportedMap(loaded);
  if (!isRecord(map) || typeof map === 'function') {
    throw new InputError(
      `${file} must export (default export or module.exports) an object mapping capability → ` +
        `async (task, ctx) => result; it exports ${typeof map === 'function' ? 'a function' : typeof map}`,
      FIELD,
    );
  }
  const handlers: HandlerMap = {};
  for (const [capability, handler] of Object.entries(map)) {
    if (capability === '__esModule') continue;
    if (typeof handler !== 'function') {
      throw new InputError(
        `${file}: the handler for '${capability}' is a ${typeof handler}, not a function`,
        FIELD,
      );
    }
    handlers[capability] = handler as TaskHandler;
  }
  return handlers;
}

/** Loads `file` (relative to the working directory) as CommonJS or ESM; see the module comment. */
export async function loadHandlerModule(file: string): Promise<HandlerMap> {
  const path = resolve(file);
  if (!existsSync(path)) throw new InputError(`${path} does not exist`, FIELD);
  let loaded: unknown;
  try {
    if (path.endsWith('.mjs')) loaded = await importModule(pathToFileURL(path).href);
    else if (TYPESCRIPT.test(path)) loaded = await loadTypeScript(path);
    else loaded = await loadCommonJsOrEsm(path);
  } catch (thrown) {
    if (thrown instanceof InputError) throw thrown;
    const error = coerceError(thrown);
    throw new InputError(`${path} could not be loaded: ${error.message}`, FIELD);
  }
  return toHandlerMap(loaded, path);
}

const TYPESCRIPT = /\.[cm]?ts$/;

/** The part of tsx's scoped API (`tsx/cjs/api`) used here. */
interface TsxApi {
  /** Loads one module (ES syntax too, `.mts` included) without registering tsx globally. */
  require(id: string, fromFile: string): unknown;
}

/** True when this process already runs TypeScript through `require` (ts-node, ts-jest). */
function canRequireTypeScript(): boolean {
  return typeof require.extensions?.['.ts'] === 'function';
}

/** tsx's scoped API from the module's folder, then the working directory; null without tsx. */
function userTsx(path: string): TsxApi | null {
  let api: string;
  try {
    api = require.resolve('tsx/cjs/api', { paths: [dirname(path), process.cwd()] });
  } catch {
    return null;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(api) as TsxApi;
}

/**
 * One TypeScript module through the user's tsx, scoped to it (the process's own `require` of a
 * `.ts` file stays as it was); without tsx, through a loader the process already has.
 */
async function loadTypeScript(path: string): Promise<unknown> {
  const tsx = userTsx(path);
  if (tsx) return tsx.require(path, __filename);
  if (canRequireTypeScript()) return loadCommonJsOrEsm(path);
  throw new InputError(
    `${path} is TypeScript, and no tsx is installed where it is or in ${process.cwd()}: ` +
      'install it (npm install --save-dev tsx) or give the compiled JavaScript module',
    FIELD,
  );
}

async function loadCommonJsOrEsm(path: string): Promise<unknown> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path) as unknown;
  } catch (error) {
    // A `.js` file in a `"type": "module"` package with top-level await cannot be required.
    if (
      (error as { code?: string }).code === 'ERR_REQUIRE_ESM' ||
      (error as { code?: string }).code === 'ERR_REQUIRE_ASYNC_MODULE'
    ) {
      return importModule(pathToFileURL(path).href);
    }
    throw error;
  }
}

/**
 * The handlers of `capabilities` (each its own, else the `'*'` one); a declared capability
 * without either is an `InputError`.
 */
export function pickHandlers(
  handlers: HandlerMap,
  capabilities: readonly string[],
  field = 'capabilities',
): HandlerMap {
  const missing = capabilities.filter((c) => handlerFor(handlers, c) === undefined);
  if (missing.length > 0) {
    throw new InputError(
      `no handler for ${missing.map((c) => `'${c}'`).join(', ')} ` +
        `(handlers exist for: ${Object.keys(handlers).join(', ') || 'none'}; ` +
        `'${ANY_CAPABILITY}' would serve every capability without its own)`,
      field,
    );
  }
  return Object.fromEntries(capabilities.map((c) => [c, handlerFor(handlers, c)!]));
}
