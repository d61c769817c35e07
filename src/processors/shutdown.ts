/**
 * SIGINT/SIGTERM for a long-running process (`agentq worker`): the first signal starts a graceful
 * close (stop claiming, let running tasks finish within the grace period, hand back the rest);
 * a second one exits at once, for a person who does not want to wait.
 */
export interface ShutdownOptions {
  /** Told which signal arrived, before the close starts. */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** Called when the graceful close threw. @defaultValue writes it to stderr */
  onError?: (error: unknown) => void;
}

/** Installs the handlers; returns a function that removes them. */
export function installShutdownHandlers(
  close: () => Promise<void>,
  options: ShutdownOptions = {},
): () => void {
  let closing = false;
  const handle = (signal: NodeJS.Signals) => {
    if (closing) {
      process.exit(130);
    }
    closing = true;
    options.onSignal?.(signal);
    close().then(
      () => undefined,
      (error: unknown) => {
        (options.onError ?? ((e: unknown) => process.stderr.write(`${String(e)}\n`)))(error);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
  return () => {
    process.off('SIGINT', handle);
    process.off('SIGTERM', handle);
  };
}
