/**
 * Resources registered as they are acquired and released in reverse order, the first error kept
 * (graphile-worker's `withReleasers` is the model). Every composition root (serve, worker, the
 * CLI context, createAgentSystem) builds its parts through one of these, so teardown is written
 * once and nothing is closed twice.
 *
 * ```ts
 * await withReleasers(async (releasers) => {
 *   const registry = releasers.use(new TaskRegistry(options), (r) => r.close());
 *   …
 * });
 * ```
 */

export interface Releasers {
  /** Registers `release`; it runs after everything registered later. */
  add(release: () => unknown): void;
  /** Registers the release of `resource` and returns it. */
  use<T>(resource: T, release: (resource: T) => unknown): T;
  /**
   * Runs every release, newest first, each once, even when one throws; then rethrows the first
   * error. Later calls return the same promise.
   */
  release(): Promise<void>;
}

export function createReleasers(): Releasers {
  const stack: Array<() => unknown> = [];
  let releasing: Promise<void> | null = null;
  const releasers: Releasers = {
    add(release) {
      if (releasing) throw new Error('cannot register a resource: already released');
      stack.push(release);
    },
    use(resource, release) {
      releasers.add(() => release(resource));
      return resource;
    },
    release() {
      releasing ??= (async () => {
        let first: { error: unknown } | null = null;
        while (stack.length > 0) {
          try {
            await stack.pop()!();
          } catch (error) {
            first ??= { error };
          }
        }
        if (first) throw first.error;
      })();
      return releasing;
    },
  };
  return releasers;
}

/** Runs `work` with fresh releasers and releases them whatever happens; `work`'s error wins. */
export async function withReleasers<T>(work: (releasers: Releasers) => Promise<T>): Promise<T> {
  const releasers = createReleasers();
  let result: T;
  try {
    result = await work(releasers);
  } catch (error) {
    await releasers.release().catch(() => undefined);
    throw error;
  }
  await releasers.release();
  return result;
}

/**
 * Builds with `build`; when it throws, releases what it had acquired and rethrows. Otherwise the
 * releasers are the caller's to release later (a system with its own `close()`).
 */
export async function buildWithReleasers<T>(
  build: (releasers: Releasers) => Promise<T>,
): Promise<{ value: T; releasers: Releasers }> {
  const releasers = createReleasers();
  try {
    return { value: await build(releasers), releasers };
  } catch (error) {
    await releasers.release().catch(() => undefined);
    throw error;
  }
}
