/**
 * A background task that runs `step` again and again: right away when it reports more work, after
 * `idleMs` otherwise, sooner when `wake()` is called. A failing step is reported and retried after the
 * idle delay, so one bad poll never stops the loop.
 */
export interface PollingLoop {
  wake(): void;
  stop(): Promise<void>;
}

export function startPollingLoop(
  name: string,
  step: () => Promise<boolean | void>,
  options: { idleMs: number; onError(name: string, error: unknown): void; onStep?(name: string): void },
): PollingLoop {
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wakeUp = resolve;
      timer = setTimeout(resolve, ms);
    });
  const running = (async () => {
    while (!stopped) {
      let more = false;
      try {
        more = (await step()) === true;
        options.onStep?.(name);
      } catch (error) {
        if (!stopped) options.onError(name, error);
      }
      if (!stopped && !more) await sleep(options.idleMs);
    }
  })();
  return {
    wake() {
      clearTimeout(timer);
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wakeUp?.();
      await running;
    },
  };
}
