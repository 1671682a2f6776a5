import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createJobs } from './jobs.js';

describe('jobs', () => {
  it('refuses an invalid cron expression by name', () => {
    const jobs = createJobs(pino({ level: 'silent' }));
    expect(() => jobs.schedule('broken', 'every minute', async () => {})).toThrow(/job broken: invalid cron expression/);
  });

  it('runs a job on its schedule, one run at a time, and waits for the run in progress on stop', async () => {
    const jobs = createJobs(pino({ level: 'silent' }));
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release: () => void = () => {};
    const firstRunStarted = new Promise<void>((started) => {
      jobs.schedule('slow', '* * * * * *', async () => {
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        started();
        await new Promise<void>((r) => {
          release = r;
        });
        active--;
      });
    });
    await firstRunStarted;
    // Let at least one more tick pass while the first run is still going: it must be skipped.
    await new Promise((r) => setTimeout(r, 1_100));
    const stopped = jobs.stop();
    release();
    await stopped;
    expect(runs).toBe(1);
    expect(maxActive).toBe(1);
    expect(active).toBe(0);
  });
});
