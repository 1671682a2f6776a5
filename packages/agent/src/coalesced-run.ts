/**
 * Wraps an async task so concurrent calls share one run, and a call that arrives while a run is in
 * progress gets exactly one more run after it (the running one may have read state before the
 * change that prompted the call). The returned function never rejects: `onError` sees failures,
 * since callers fire and forget and a rejection would crash the agent.
 */
export function coalescedRun(task: () => Promise<void>, onError: (err: unknown) => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          try {
            await task();
          } catch (err) {
            onError(err);
          }
        } while (again);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
}
