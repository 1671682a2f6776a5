import cron from 'node-cron';
import type { Logger } from 'pino';

/**
 * Named background schedules. Each job is single-flight: a tick that comes while the previous run
 * is still going is skipped (and logged at debug), so a slow database never piles runs up.
 * Replicas: every replica runs the jobs; the jobs themselves must be safe to run concurrently
 * (the rollout engine's steps are idempotent state transitions in the database).
 */
export function createJobs(logger: Logger) {
  const log = logger.child({ module: 'jobs' });
  const tasks: Array<{ stop: () => void }> = [];
  const running = new Set<Promise<void>>();

  return {
    /** Runs `run` on a cron expression (six fields allowed, the first being seconds). */
    schedule(name: string, expression: string, run: () => Promise<unknown>): void {
      if (!cron.validate(expression)) throw new Error(`job ${name}: invalid cron expression ${JSON.stringify(expression)}`);
      let busy = false;
      const task = cron.schedule(expression, () => {
        if (busy) {
          log.debug({ job: name }, 'previous run still going; tick skipped');
          return;
        }
        busy = true;
        const done = run()
          .then(
            () => undefined,
            (err: unknown) => log.error({ err, job: name }, 'job failed'),
          )
          .finally(() => {
            busy = false;
            running.delete(done);
          });
        running.add(done);
      });
      tasks.push({ stop: () => void task.stop() });
    },
    /** Stops every schedule and waits for runs in progress. */
    async stop(): Promise<void> {
      for (const t of tasks) t.stop();
      await Promise.allSettled([...running]);
    },
  };
}

export type Jobs = ReturnType<typeof createJobs>;
