import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compileSchema } from '@brier/protocol';
import type { Logger } from 'pino';
import Type from 'typebox';
import { writeFileAtomic } from '../state/atomic-write.js';

/** Remediation attempts per rule, kept across restarts so a restart loop cannot reset them. */
export const REMEDIATION_STATE_FILE = 'policy-remediation.json';

export interface RateLimitOptions {
  /** Attempts per rule allowed within `windowMs` before remediation pauses. */
  maxAttempts: number;
  windowMs: number;
  /** The longest pause; each pause doubles the one before (starting at `windowMs`) up to this. */
  maxPauseMs: number;
}

export const DEFAULT_RATE_LIMIT: Readonly<RateLimitOptions> = Object.freeze({
  maxAttempts: 3,
  windowMs: 60 * 60_000,
  maxPauseMs: 24 * 60 * 60_000,
});

const Entry = Type.Object(
  {
    /** Times (ms since the epoch) of the attempts in the current window. */
    attempts: Type.Array(Type.Number(), { maxItems: 1_000 }),
    /** How many pauses in a row so far: the next lasts windowMs * 2^level. */
    level: Type.Integer({ minimum: 0, maximum: 64 }),
    /** No attempt before this (ms since the epoch); 0: not paused. */
    pausedUntil: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);
type Entry = Type.Static<typeof Entry>;
const StateFile = Type.Object(
  { version: Type.Literal(1), rules: Type.Record(Type.String({ maxLength: 200 }), Entry) },
  { additionalProperties: false },
);
const checkStateFile = compileSchema(StateFile);

export interface RemediationLimiterDeps {
  /** The agent's state directory. */
  dir: string;
  logger: Logger;
  options?: Partial<RateLimitOptions>;
}

/**
 * Limits remediation per rule so a machine that cannot be repaired is not hammered: at most
 * `maxAttempts` attempts within `windowMs`, then a pause of `windowMs`, doubling with each pause in
 * a row up to `maxPauseMs`. Every attempt counts, successful or not: a daemon that is started and
 * crashes again would otherwise be restarted at every evaluation. The pauses in a row end (level 0)
 * once the rule is seen compliant without help. The state is written atomically after each change.
 */
export class RemediationLimiter {
  private readonly options: RateLimitOptions;
  private readonly file: string;
  private readonly log: Logger;
  private rules = new Map<string, Entry>();

  constructor(private readonly deps: RemediationLimiterDeps) {
    this.options = { ...DEFAULT_RATE_LIMIT, ...deps.options };
    this.file = path.join(deps.dir, REMEDIATION_STATE_FILE);
    this.log = deps.logger.child({ module: 'policy-limiter' });
  }

  /** Reads the stored state; a damaged file is ignored (logged), starting with no attempts. */
  load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err }, 'cannot read the remediation limits; starting afresh');
      return;
    }
    try {
      const raw = checkStateFile(JSON.parse(text), REMEDIATION_STATE_FILE);
      this.rules = new Map(Object.entries(raw.rules));
    } catch (err) {
      this.log.warn({ err, file: this.file }, 'remediation limits are damaged; starting afresh');
    }
  }

  /** When remediation of `key` may run again (ms since the epoch), or null when it may run now. */
  pausedUntil(key: string, nowMs: number): number | null {
    const entry = this.rules.get(key);
    return entry && entry.pausedUntil > nowMs ? entry.pausedUntil : null;
  }

  /** Counts one attempt; the one that reaches maxAttempts within the window starts a pause. */
  record(key: string, nowMs: number): void {
    const { maxAttempts, windowMs, maxPauseMs } = this.options;
    const entry = this.rules.get(key) ?? { attempts: [], level: 0, pausedUntil: 0 };
    entry.attempts = [...entry.attempts.filter((t) => t > nowMs - windowMs), nowMs];
    if (entry.attempts.length >= maxAttempts) {
      entry.pausedUntil = nowMs + Math.min(windowMs * 2 ** entry.level, maxPauseMs);
      entry.level = Math.min(entry.level + 1, 64);
      entry.attempts = [];
    }
    this.rules.set(key, entry);
    this.save();
  }

  /** The rule held without help: the next pause, if one comes, starts short again. */
  settled(key: string): void {
    const entry = this.rules.get(key);
    if (!entry || entry.level === 0) return;
    entry.level = 0;
    this.save();
  }

  /** Forgets rules no longer in the bundle. */
  retain(keys: ReadonlySet<string>): void {
    let changed = false;
    for (const key of this.rules.keys()) {
      if (!keys.has(key)) {
        this.rules.delete(key);
        changed = true;
      }
    }
    if (changed) this.save();
  }

  private save(): void {
    try {
      mkdirSync(this.deps.dir, { recursive: true, mode: 0o700 });
      writeFileAtomic(this.file, JSON.stringify({ version: 1, rules: Object.fromEntries(this.rules) }));
    } catch (err) {
      // The limits still hold in memory; only a restart would forget them.
      this.log.error({ err }, 'cannot store the remediation limits');
    }
  }
}
