import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { compileSchema } from '@brier/protocol';
import Type from 'typebox';
import { StateError } from './agent-state.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * The agent's durable ledger of assignments: what it received, started and finished, so that it
 * never runs the same assignment twice, not even across crashes and power cuts.
 *
 * Format: append-only JSON lines, one line per state change, fdatasync'd before `record` returns.
 * Chosen over rewriting the whole file per change because an append costs one small write and one
 * flush whatever the ledger's size, and a crash can then only damage the line being written. A line
 * counts only once its newline is on disk and it parses: a torn or garbled last line was never
 * acknowledged to anyone (its `record` did not return), so it is ignored on load and cut off the
 * file before the next append, which would otherwise glue a good line onto the torn one. Damage
 * anywhere else is not something a crash produces and is refused (LedgerError) rather than guessed
 * around, since forgetting a 'running' line could mean running its work again.
 *
 * Compaction rewrites the file atomically (temporary file, fsync, rename) with one line per
 * remembered assignment; a crash mid-way leaves the old file or the new one, both complete.
 *
 * How the agent uses it, for assignments that verified as genuine (never for forgeries: recording
 * an unauthenticated id would let anyone pre-empt real work by "using up" its id):
 *   admit()    before anything else; 'seen' means never run it, report the recorded state instead
 *   startRun() right before the executor; false means do not run (already started or finished)
 *   record(..., 'succeeded' | 'failed' | ...) when it ends
 * An assignment found 'running' on load was interrupted by a crash: it stays 'running' (see
 * `interrupted`) until the agent reports it and records how it ended; it is never started again.
 */

export const LEDGER_FILE = 'ledger.jsonl';

export const LEDGER_STATES = ['received', 'running', 'succeeded', 'failed', 'refused', 'expired'] as const;
export type LedgerState = (typeof LEDGER_STATES)[number];

/** The states an assignment may move to from each state; terminal states have none. */
const NEXT: Readonly<Record<LedgerState | 'unseen', readonly LedgerState[]>> = {
  unseen: ['received', 'refused', 'expired'],
  received: ['running', 'refused', 'expired'],
  running: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
  refused: [],
  expired: [],
};

const UNFINISHED: ReadonlySet<LedgerState> = new Set(['received', 'running']);

/** Longest note kept: the ledger is evidence, not a log. */
export const MAX_NOTE_LENGTH = 1024;

const IsoTime = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' });

/** One line of the file, and one remembered assignment. */
export const LedgerEntry = Type.Object(
  {
    assignmentId: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
    sequence: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    state: Type.Union([
      Type.Literal('received'),
      Type.Literal('running'),
      Type.Literal('succeeded'),
      Type.Literal('failed'),
      Type.Literal('refused'),
      Type.Literal('expired'),
    ]),
    /** When this state was recorded (the agent's clock). */
    at: IsoTime,
    /** The assignment's nonce, so a replay under another id is recognised too. */
    nonce: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })),
    /** Until then a finished assignment is never forgotten: a replay of it would still verify. */
    expiresAt: Type.Optional(IsoTime),
    note: Type.Optional(Type.String({ maxLength: MAX_NOTE_LENGTH })),
  },
  { additionalProperties: false },
);
export type LedgerEntry = Type.Static<typeof LedgerEntry>;

export interface LedgerDetail {
  nonce?: string;
  expiresAt?: string;
  /** Why it failed or was refused; cut to MAX_NOTE_LENGTH characters. */
  note?: string;
}

export interface LedgerOptions {
  now?: () => Date;
  /** Finished assignments compaction keeps at least (the most recently updated ones). */
  keepFinished?: number;
  /**
   * Compact once the file holds more lines than this (default: twice keepFinished). The threshold
   * also never drops below twice the lines the last compaction kept, so a ledger full of
   * unfinished or unexpired work is not rewritten on every append.
   */
  compactAtLines?: number;
}

/** What `admit` found: 'new' was recorded as received just now, 'pending' was received earlier but never started. */
export type Admission = 'new' | 'pending' | 'seen';

export class LedgerError extends StateError {
  override name = 'LedgerError';
}

const checkEntry = compileSchema(LedgerEntry);

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}

function parseLine(text: string): LedgerEntry | undefined {
  try {
    return checkEntry(JSON.parse(text), 'ledger line');
  } catch {
    return undefined;
  }
}

export class Ledger {
  private readonly entries = new Map<string, LedgerEntry>();
  private readonly nonces = new Map<string, string>();
  private readonly now: () => Date;
  private readonly keepFinished: number;
  private readonly compactAtLines: number;
  private fd: number | undefined;
  /** Bytes of whole, valid lines in the file: where the next append goes. */
  private size = 0;
  private lines = 0;
  private threshold: number;
  private maxSequence = 0;
  /** Set when a failed append could not be undone: the file's tail is unknown, so nothing more is written. */
  private broken: Error | undefined;

  /** Assignments that were 'running' when the ledger was opened: a crash interrupted them. */
  readonly interrupted: readonly LedgerEntry[];

  private constructor(
    readonly file: string,
    options: LedgerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.keepFinished = options.keepFinished ?? 10_000;
    // At least one, so the entry just recorded always survives the compaction its record triggers.
    if (!Number.isInteger(this.keepFinished) || this.keepFinished < 1) throw new RangeError('keepFinished must be a positive integer');
    this.compactAtLines = options.compactAtLines ?? 2 * this.keepFinished;
    this.threshold = this.compactAtLines;
    this.load();
    this.interrupted = [...this.entries.values()].filter((e) => e.state === 'running');
    if (this.lines > this.threshold) this.compact();
  }

  /** Opens (creating on first write) the ledger in `file`. Throws LedgerError when the file is damaged or unreadable. */
  static open(file: string, options: LedgerOptions = {}): Ledger {
    return new Ledger(file, options);
  }

  private load(): void {
    let buf: Buffer;
    try {
      buf = readFileSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new LedgerError(`cannot read ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    let start = 0;
    let line = 0;
    while (start < buf.length) {
      const end = buf.indexOf(0x0a, start);
      line++;
      // No newline: the append was cut short by a crash.
      if (end === -1) break;
      const entry = parseLine(buf.toString('utf8', start, end));
      const isLast = end === buf.length - 1;
      if (!entry) {
        // A whole last line that does not parse was garbled by the same crash (blocks reach the disk
        // out of order); anywhere else it is damage no crash explains.
        if (isLast) break;
        throw new LedgerError(
          `${this.file} is damaged at line ${line}; move it aside to start a new ledger (work already done may then run again)`,
        );
      }
      const previous = this.entries.get(entry.assignmentId);
      // Lines after an assignment's first follow the same rules `record` enforces; only the first
      // may start anywhere (compaction writes each assignment's latest state as its first line).
      if (previous && (!NEXT[previous.state].includes(entry.state) || previous.sequence !== entry.sequence)) {
        throw new LedgerError(`${this.file} is damaged at line ${line}: ${previous.state} cannot become ${entry.state}`);
      }
      this.apply(entry);
      this.lines++;
      start = end + 1;
    }
    this.size = start;
    if (start < buf.length) {
      // Cut the torn tail off now, so the next append starts a line of its own.
      try {
        const fd = openSync(this.file, 'r+');
        try {
          ftruncateSync(fd, start);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } catch (cause) {
        throw new LedgerError(`cannot repair the torn end of ${this.file}: ${(cause as Error).message}`, { cause });
      }
    }
  }

  private apply(entry: LedgerEntry): void {
    const previous = this.entries.get(entry.assignmentId);
    const merged: LedgerEntry = { ...entry };
    // The nonce and expiry come with the first record; later lines leave them out.
    if (previous?.nonce !== undefined && merged.nonce === undefined) merged.nonce = previous.nonce;
    if (previous?.expiresAt !== undefined && merged.expiresAt === undefined) merged.expiresAt = previous.expiresAt;
    // Delete first: Map order is then "least recently updated first", which compaction relies on.
    this.entries.delete(entry.assignmentId);
    this.entries.set(entry.assignmentId, merged);
    if (merged.nonce !== undefined) this.nonces.set(merged.nonce, merged.assignmentId);
    if (merged.sequence > this.maxSequence) this.maxSequence = merged.sequence;
  }

  private append(text: string): void {
    if (this.broken)
      throw new LedgerError(`${this.file} cannot be written after an earlier failure; restart the agent`, { cause: this.broken });
    if (this.fd === undefined) {
      const created = !existsSync(this.file);
      try {
        mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
        this.fd = openSync(this.file, 'a', 0o600);
        // A new file's directory entry must be durable too, or the first record could vanish with it.
        if (created) fsyncDir(path.dirname(this.file));
      } catch (cause) {
        throw new LedgerError(`cannot open ${this.file}: ${(cause as Error).message}`, { cause });
      }
    }
    try {
      writeAll(this.fd, Buffer.from(text, 'utf8'));
      fdatasyncSync(this.fd);
    } catch (cause) {
      // Take back whatever part of the line reached the file (a full disk writes some of it), so the
      // next append does not land after half a line.
      try {
        ftruncateSync(this.fd, this.size);
        fdatasyncSync(this.fd);
      } catch (undo) {
        this.broken = undo as Error;
      }
      throw new LedgerError(`cannot write ${this.file}: ${(cause as Error).message}`, { cause });
    }
    this.size += Buffer.byteLength(text);
    this.lines++;
  }

  /**
   * Records that `assignmentId` is now in `state`, durably: when this returns the line is on disk.
   * Throws LedgerError for a move the rules do not allow (a finished assignment never changes
   * again; 'running' comes only from 'received') and when the write fails; nothing changes then.
   */
  record(assignmentId: string, sequence: number, state: LedgerState, detail: LedgerDetail = {}): LedgerEntry {
    const previous = this.entries.get(assignmentId);
    const allowed = NEXT[previous?.state ?? 'unseen'];
    if (!allowed.includes(state)) {
      throw new LedgerError(`assignment ${assignmentId} cannot move from ${previous?.state ?? 'unseen'} to ${state}`);
    }
    if (previous && previous.sequence !== sequence) {
      throw new LedgerError(`assignment ${assignmentId} has sequence ${previous.sequence}, not ${sequence}`);
    }
    const candidate = {
      assignmentId,
      sequence,
      state,
      at: this.now().toISOString(),
      ...(detail.nonce !== undefined ? { nonce: detail.nonce } : {}),
      ...(detail.expiresAt !== undefined ? { expiresAt: detail.expiresAt } : {}),
      ...(detail.note !== undefined ? { note: detail.note.slice(0, MAX_NOTE_LENGTH) } : {}),
    };
    let entry: LedgerEntry;
    try {
      // Checked before writing, so the file never holds a line that would fail to load.
      entry = checkEntry(candidate, 'ledger entry');
    } catch (cause) {
      throw new LedgerError(`cannot record assignment: ${(cause as Error).message}`, { cause });
    }
    this.append(`${JSON.stringify(entry)}\n`);
    this.apply(entry);
    if (this.lines > this.threshold) this.compact();
    return this.entry(assignmentId) ?? entry;
  }

  /**
   * The first step for a genuine assignment. Records it as 'received' when it is new; 'pending'
   * means it was received before but never started (the agent crashed, or the server resent it),
   * so it may go on to startRun; 'seen' means it must not run: it started or finished already, or
   * its nonce came with another assignment.
   */
  admit(assignment: { assignmentId: string; sequence: number; nonce: string; expiresAt: string }): Admission {
    const known = this.entries.get(assignment.assignmentId);
    if (known) return known.state === 'received' ? 'pending' : 'seen';
    if (this.nonces.has(assignment.nonce)) return 'seen';
    this.record(assignment.assignmentId, assignment.sequence, 'received', { nonce: assignment.nonce, expiresAt: assignment.expiresAt });
    return 'new';
  }

  /**
   * Moves a received assignment to 'running', durably, and says whether the caller may now start
   * the executor. True at most once per assignment, ever: this is the never-run-twice gate.
   */
  startRun(assignmentId: string): boolean {
    const entry = this.entries.get(assignmentId);
    if (entry?.state !== 'received') return false;
    this.record(assignmentId, entry.sequence, 'running');
    return true;
  }

  stateOf(assignmentId: string): LedgerState | undefined {
    return this.entries.get(assignmentId)?.state;
  }

  entry(assignmentId: string): LedgerEntry | undefined {
    const e = this.entries.get(assignmentId);
    return e && { ...e };
  }

  hasSeen(assignmentId: string): boolean {
    return this.entries.has(assignmentId);
  }

  seenNonce(nonce: string): boolean {
    return this.nonces.has(nonce);
  }

  /** The highest sequence ever recorded (0 for none): what a reconnecting agent reports for catch-up. */
  highestSequence(): number {
    return this.maxSequence;
  }

  /** Assignments received or running: what compaction never forgets. */
  unfinished(): LedgerEntry[] {
    return this.list().filter((e) => UNFINISHED.has(e.state));
  }

  /** Every remembered assignment, least recently updated first. */
  list(): LedgerEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e }));
  }

  /**
   * Rewrites the file with one line per assignment worth remembering: every unfinished one, every
   * finished one whose assignment has not expired yet (a replay of it would still verify), the one
   * with the highest sequence (catch-up must not go backwards), and the `keepFinished` most
   * recently updated of the rest. An id recorded with its expiry is thus forgotten only once its
   * signed assignment has expired and verification refuses any replay before the ledger is asked;
   * an id recorded without one is kept by count alone, so `admit` always records the expiry.
   */
  compact(): void {
    if (this.broken)
      throw new LedgerError(`${this.file} cannot be written after an earlier failure; restart the agent`, { cause: this.broken });
    const now = this.now().getTime();
    const all = [...this.entries.values()];
    const keep = new Set<LedgerEntry>();
    let recentFinished = 0;
    for (let i = all.length - 1; i >= 0; i--) {
      const e = all[i]!;
      const live = UNFINISHED.has(e.state) || (e.expiresAt !== undefined && Date.parse(e.expiresAt) > now);
      if (live) keep.add(e);
      else if (recentFinished < this.keepFinished) {
        keep.add(e);
        recentFinished++;
      } else if (e.sequence === this.maxSequence) keep.add(e);
    }
    const kept = all.filter((e) => keep.has(e));
    const text = kept.map((e) => `${JSON.stringify(e)}\n`).join('');
    this.close();
    try {
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      writeFileAtomic(this.file, text);
    } catch (cause) {
      // The rename may or may not have happened: learn where the file now ends before appending again.
      try {
        this.size = statSync(this.file).size;
      } catch (err) {
        this.broken = err as Error;
      }
      throw new LedgerError(`cannot compact ${this.file}: ${(cause as Error).message}`, { cause });
    }
    for (const e of all) {
      if (keep.has(e)) continue;
      this.entries.delete(e.assignmentId);
      if (e.nonce !== undefined) this.nonces.delete(e.nonce);
    }
    this.size = Buffer.byteLength(text);
    this.lines = kept.length;
    this.threshold = Math.max(this.compactAtLines, 2 * kept.length);
  }

  /** Closes the file; the next record reopens it. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}
