/** Ctrl-C for commands that run until stopped (`status --watch`, `events --follow`). */

export interface Interrupt {
  readonly stopped: boolean;
  /** Resolves after `ms`, or at once when interrupted. */
  sleep(ms: number): Promise<void>;
  /** Resolves when interrupted. */
  readonly done: Promise<void>;
  dispose(): void;
}

export function onInterrupt(signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): Interrupt {
  let stopped = false;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const stop = () => {
    stopped = true;
    resolveDone();
  };
  for (const signal of signals) process.once(signal, stop);
  return {
    get stopped() {
      return stopped;
    },
    done,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        void done.then(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    dispose: () => {
      for (const signal of signals) process.off(signal, stop);
      stop();
    },
  };
}
