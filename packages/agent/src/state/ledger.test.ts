import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomToken } from '@brier/protocol';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateError } from './agent-state.js';
import { LEDGER_FILE, Ledger, LedgerError, type LedgerOptions, type LedgerState, MAX_NOTE_LENGTH } from './ledger.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const PAST = '2025-02-01T00:00:00.000Z';
const FUTURE = '2025-04-01T00:00:00.000Z';

let root: string;
let file: string;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'brier-ledger-'));
  file = path.join(root, 'state', LEDGER_FILE);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function open(options: LedgerOptions = {}): Ledger {
  return Ledger.open(file, { now: () => NOW, ...options });
}

function bytes(): Buffer {
  return existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
}

function lineCount(): number {
  return bytes().toString('utf8').split('\n').length - 1;
}

function work(sequence = 1, expiresAt = FUTURE) {
  return { assignmentId: randomUUID(), sequence, nonce: randomToken(), expiresAt };
}

/** Everything a reload must reproduce. */
function snapshot(ledger: Ledger, nonces: readonly string[] = []) {
  return { entries: ledger.list(), highest: ledger.highestSequence(), nonces: nonces.filter((n) => ledger.seenNonce(n)) };
}

describe('the ledger', () => {
  it('starts empty when there is no file, and creates none until the first record', () => {
    const ledger = open();
    expect(ledger.list()).toEqual([]);
    expect(ledger.highestSequence()).toBe(0);
    expect(ledger.interrupted).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });

  it('creates its file with mode 0600 in a state directory with mode 0700', () => {
    open().admit(work());
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('reloads exactly what was recorded', () => {
    const a = work(3);
    const b = work(5, PAST);
    const ledger = open();
    ledger.admit(a);
    ledger.admit(b);
    ledger.startRun(a.assignmentId);
    ledger.record(a.assignmentId, 3, 'succeeded', { note: 'openssl 3.0.11-1~deb12u2 verified' });
    ledger.record(b.assignmentId, 5, 'refused', { note: 'busy, will retry' });
    ledger.close();

    const again = open();
    expect(snapshot(again, [a.nonce, b.nonce])).toEqual(snapshot(ledger, [a.nonce, b.nonce]));
    expect(again.entry(a.assignmentId)).toEqual({
      assignmentId: a.assignmentId,
      sequence: 3,
      state: 'succeeded',
      at: NOW.toISOString(),
      nonce: a.nonce,
      expiresAt: FUTURE,
      note: 'openssl 3.0.11-1~deb12u2 verified',
    });
    expect(again.stateOf(b.assignmentId)).toBe('refused');
    expect(again.highestSequence()).toBe(5);
    expect(again.seenNonce(a.nonce)).toBe(true);
    expect(again.seenNonce(randomToken())).toBe(false);
    expect(again.hasSeen(randomUUID())).toBe(false);
  });

  it('appends one line per change and never rewrites earlier bytes', () => {
    const ledger = open();
    const a = work();
    ledger.admit(a);
    const first = bytes();
    ledger.startRun(a.assignmentId);
    const second = bytes();
    expect(second.subarray(0, first.length)).toEqual(first);
    expect(lineCount()).toBe(2);
  });

  it('ignores a torn final line and appends cleanly after it', () => {
    const ledger = open();
    const a = work(1);
    ledger.admit(a);
    ledger.close();
    const whole = bytes();
    // Half of the line a crash interrupted.
    const torn = `${JSON.stringify({ assignmentId: randomUUID(), sequence: 2, state: 'received', at: NOW.toISOString() })}\n`;
    appendFileSync(file, torn.slice(0, torn.length / 2));

    const reopened = open();
    expect(reopened.list().map((e) => e.assignmentId)).toEqual([a.assignmentId]);
    expect(bytes()).toEqual(whole);
    const b = work(2);
    reopened.admit(b);
    reopened.close();
    expect(
      open()
        .list()
        .map((e) => e.assignmentId),
    ).toEqual([a.assignmentId, b.assignmentId]);
  });

  it('ignores a final line the crash left garbled or without its newline', () => {
    const ledger = open();
    const a = work();
    ledger.admit(a);
    ledger.close();
    const whole = bytes();
    for (const tail of [
      '\0\0\0\0\0\0',
      '\0\0{"x"\0\n',
      JSON.stringify({ assignmentId: randomUUID(), sequence: 1, state: 'received', at: PAST }),
    ]) {
      writeFileSync(file, Buffer.concat([whole, Buffer.from(tail)]));
      expect(
        open()
          .list()
          .map((e) => e.assignmentId),
      ).toEqual([a.assignmentId]);
      expect(bytes()).toEqual(whole);
    }
  });

  it('refuses to open a file damaged anywhere but at its end, and leaves it as it was', () => {
    const ledger = open();
    ledger.admit(work());
    ledger.admit(work());
    ledger.close();
    const [first, second] = bytes().toString('utf8').split('\n');
    for (const damaged of [`${first}\ngarbage\n${second}\n`, `{"assignmentId":1}\n${second}\n`, `\n${first}\n`]) {
      writeFileSync(file, damaged);
      expect(() => open()).toThrow(LedgerError);
      expect(readFileSync(file, 'utf8')).toBe(damaged);
    }
  });

  it('refuses a file whose lines break the rules, such as a finished assignment received again', () => {
    const ledger = open();
    const a = work();
    ledger.admit(a);
    ledger.record(a.assignmentId, a.sequence, 'expired');
    ledger.close();
    appendFileSync(file, `${JSON.stringify({ assignmentId: a.assignmentId, sequence: 1, state: 'received', at: NOW.toISOString() })}\n`);
    appendFileSync(file, `${JSON.stringify({ assignmentId: randomUUID(), sequence: 1, state: 'received', at: NOW.toISOString() })}\n`);
    expect(() => open()).toThrow(/expired cannot become received/);
  });

  it('reports its errors as state errors, which the agent already knows how to report', () => {
    writeFileSync(path.join(root, 'not-a-dir'), 'x');
    expect(() => Ledger.open(path.join(root, 'not-a-dir', LEDGER_FILE)).admit(work())).toThrow(StateError);
  });

  it('keeps an assignment that was running at a crash as running, and lists it as interrupted', () => {
    const ledger = open();
    const a = work();
    const b = work(2);
    ledger.admit(a);
    ledger.admit(b);
    expect(ledger.startRun(a.assignmentId)).toBe(true);
    // Crash: the process dies with the executor running.

    const after = open();
    expect(after.stateOf(a.assignmentId)).toBe('running');
    expect(after.interrupted.map((e) => e.assignmentId)).toEqual([a.assignmentId]);
    expect(after.unfinished().map((e) => e.assignmentId)).toEqual([b.assignmentId, a.assignmentId]);
    expect(after.startRun(a.assignmentId)).toBe(false);
    expect(after.admit(a)).toBe('seen');
    after.record(a.assignmentId, a.sequence, 'failed', { note: 'interrupted by an agent restart' });
    expect(open().stateOf(a.assignmentId)).toBe('failed');
  });
});

describe('never running an assignment twice', () => {
  it('admits new work once, lets received work start once, and refuses everything after', () => {
    const ledger = open();
    const a = work();
    expect(ledger.admit(a)).toBe('new');
    expect(ledger.stateOf(a.assignmentId)).toBe('received');
    // Resent before it started (a duplicate frame, or catch-up after a crash): still startable.
    expect(ledger.admit(a)).toBe('pending');
    expect(ledger.startRun(a.assignmentId)).toBe(true);
    expect(ledger.startRun(a.assignmentId)).toBe(false);
    expect(ledger.admit(a)).toBe('seen');
    ledger.record(a.assignmentId, a.sequence, 'succeeded');
    expect(ledger.admit(a)).toBe('seen');
    expect(ledger.startRun(a.assignmentId)).toBe(false);
    ledger.close();
    expect(open().startRun(a.assignmentId)).toBe(false);
  });

  it('lets received work start after a restart, exactly once', () => {
    const a = work();
    open().admit(a);
    const after = open();
    expect(after.admit(a)).toBe('pending');
    expect(after.startRun(a.assignmentId)).toBe(true);
    expect(open().startRun(a.assignmentId)).toBe(false);
  });

  it('refuses a replayed nonce under another assignment id', () => {
    const ledger = open();
    const a = work();
    ledger.admit(a);
    const replay = { ...work(), nonce: a.nonce };
    expect(ledger.admit(replay)).toBe('seen');
    expect(ledger.hasSeen(replay.assignmentId)).toBe(false);
  });

  it('never starts work that was refused or expired', () => {
    const ledger = open();
    const a = work();
    const b = work();
    ledger.record(a.assignmentId, a.sequence, 'refused', { note: 'wrong_host' });
    ledger.admit(b);
    ledger.record(b.assignmentId, b.sequence, 'expired');
    for (const x of [a, b]) {
      expect(ledger.startRun(x.assignmentId)).toBe(false);
      expect(ledger.admit(x)).toBe('seen');
    }
    expect(ledger.startRun(randomUUID())).toBe(false);
  });

  it('refuses moves the rules do not allow, and writes nothing for them', () => {
    const ledger = open();
    const a = work();
    ledger.admit(a);
    ledger.startRun(a.assignmentId);
    ledger.record(a.assignmentId, a.sequence, 'succeeded');
    const before = bytes();
    const fresh = randomUUID();
    const refused: [string, number, LedgerState][] = [
      [a.assignmentId, a.sequence, 'running'],
      [a.assignmentId, a.sequence, 'received'],
      [a.assignmentId, a.sequence, 'failed'],
      [a.assignmentId, a.sequence, 'succeeded'],
      [fresh, 1, 'running'],
      [fresh, 1, 'succeeded'],
    ];
    for (const [id, seq, state] of refused) expect(() => ledger.record(id, seq, state), `${state}`).toThrow(LedgerError);
    const b = work(4);
    ledger.admit(b);
    const withB = bytes();
    expect(() => ledger.record(b.assignmentId, 5, 'running')).toThrow(/sequence 4, not 5/);
    expect(bytes()).toEqual(withB);
    expect(withB.subarray(0, before.length)).toEqual(before);
  });

  it('refuses ids, sequences and nonces that would not load again, and writes nothing for them', () => {
    const ledger = open();
    for (const bad of [
      () => ledger.record('not-a-uuid', 1, 'received'),
      () => ledger.record(randomUUID().toUpperCase(), 1, 'received'),
      () => ledger.record(`${randomUUID()}\n`, 1, 'received'),
      () => ledger.record(randomUUID(), 0, 'received'),
      () => ledger.record(randomUUID(), 1.5, 'received'),
      () => ledger.record(randomUUID(), 1, 'received', { nonce: 'short' }),
      () => ledger.record(randomUUID(), 1, 'received', { expiresAt: 'tomorrow' }),
      () => ledger.record(randomUUID(), 1, 'bogus' as LedgerState),
    ]) {
      expect(bad).toThrow(LedgerError);
    }
    expect(existsSync(file)).toBe(false);
  });

  it('cuts long notes and keeps notes with line breaks on one line', () => {
    const ledger = open();
    const a = work();
    const b = work();
    ledger.record(a.assignmentId, 1, 'refused', { note: 'x'.repeat(5000) });
    ledger.record(b.assignmentId, 1, 'refused', { note: 'dpkg said:\nE: Could not get lock\r\n\u0000' });
    expect(lineCount()).toBe(2);
    const again = open();
    expect(again.entry(a.assignmentId)?.note).toHaveLength(MAX_NOTE_LENGTH);
    expect(again.entry(b.assignmentId)?.note).toBe('dpkg said:\nE: Could not get lock\r\n\u0000');
  });
});

describe('compaction', () => {
  it('keeps unfinished and unexpired work, the highest sequence, and the most recent finished entries', () => {
    const ledger = open({ keepFinished: 2, compactAtLines: 1000 });
    const finishedOld = Array.from({ length: 5 }, (_, i) => work(10 + i, PAST));
    const running = work(1, PAST);
    const received = work(2, PAST);
    const unexpired = work(3, FUTURE);
    const highest = work(99, PAST);
    ledger.admit(highest);
    ledger.record(highest.assignmentId, 99, 'expired');
    ledger.admit(running);
    ledger.startRun(running.assignmentId);
    ledger.admit(received);
    ledger.admit(unexpired);
    ledger.record(unexpired.assignmentId, 3, 'refused');
    for (const w of finishedOld) {
      ledger.admit(w);
      ledger.record(w.assignmentId, w.sequence, 'expired');
    }
    ledger.compact();

    const kept = new Set(
      open()
        .list()
        .map((e) => e.assignmentId),
    );
    expect(kept).toEqual(
      new Set([
        running.assignmentId,
        received.assignmentId,
        unexpired.assignmentId,
        highest.assignmentId,
        finishedOld[3]?.assignmentId,
        finishedOld[4]?.assignmentId,
      ]),
    );
    expect(lineCount()).toBe(6);
    expect(ledger.highestSequence()).toBe(99);
    expect(ledger.seenNonce(finishedOld[0]!.nonce)).toBe(false);
    expect(ledger.seenNonce(running.nonce)).toBe(true);
    // Appending continues after the rewritten file.
    ledger.record(received.assignmentId, 2, 'refused');
    expect(open().stateOf(received.assignmentId)).toBe('refused');
  });

  it('keeps the file bounded by itself, without ever forgetting unfinished work', () => {
    const ledger = open({ keepFinished: 10 });
    const pending = work(1, PAST);
    ledger.admit(pending);
    for (let i = 0; i < 200; i++) {
      const w = work(i + 2, PAST);
      ledger.admit(w);
      ledger.record(w.assignmentId, w.sequence, 'expired');
      // Twice what a compaction keeps: ten finished entries and the one unfinished.
      expect(lineCount()).toBeLessThanOrEqual(2 * (10 + 1));
    }
    const again = open({ keepFinished: 10 });
    expect(again.stateOf(pending.assignmentId)).toBe('received');
    expect(again.highestSequence()).toBe(201);
    expect(again.list().length).toBeLessThanOrEqual(21);
    expect(readdirSync(path.dirname(file))).toEqual([LEDGER_FILE]);
  });

  it('does not rewrite on every append when unfinished work alone passes the threshold', () => {
    const ledger = open({ keepFinished: 1, compactAtLines: 4 });
    let rewrites = 0;
    let inode: number | undefined;
    for (let i = 0; i < 200; i++) {
      ledger.admit(work(i + 1));
      if (inode !== undefined && statSync(file).ino !== inode) rewrites++;
      inode = statSync(file).ino;
    }
    // The threshold doubles with what a compaction keeps: a handful of rewrites, not one per append.
    expect(rewrites).toBeGreaterThan(0);
    expect(rewrites).toBeLessThanOrEqual(8);
    expect(open({ keepFinished: 1, compactAtLines: 4 }).unfinished()).toHaveLength(200);
  });

  it('compacts an oversized file when it is opened', () => {
    const ledger = open({ compactAtLines: 1000 });
    for (let i = 0; i < 30; i++) {
      const w = work(i + 1, PAST);
      ledger.admit(w);
      ledger.record(w.assignmentId, w.sequence, 'expired');
    }
    ledger.close();
    expect(lineCount()).toBe(60);
    open({ keepFinished: 5 });
    expect(lineCount()).toBe(5);
  });
});

/** The moves a test may make from each state, as the rules allow. */
const LEGAL: Record<LedgerState | 'unseen', readonly LedgerState[]> = {
  unseen: ['received', 'refused', 'expired'],
  received: ['running', 'refused', 'expired'],
  running: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
  refused: [],
  expired: [],
};
const isUnfinished = (s: LedgerState) => s === 'received' || s === 'running';

const POOL = 8;
type Op = { kind: 'record'; id: number; pick: number } | { kind: 'compact' } | { kind: 'crash'; cut: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('record' as const), id: fc.nat({ max: POOL - 1 }), pick: fc.nat({ max: 5 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('crash' as const), cut: fc.double({ min: 0, max: 1, noNaN: true }) }) },
);

describe('crash safety', () => {
  it('after a crash at any point reloads every record that returned, and nothing that never happened', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        rmSync(path.dirname(file), { recursive: true, force: true });
        const ids = Array.from({ length: POOL }, () => randomUUID());
        const nonces = ids.map(() => randomToken());
        // Half the pool has expired assignments, so compaction may forget them once finished.
        const expiries = ids.map((_, i) => (i % 2 === 0 ? PAST : FUTURE));
        const options: LedgerOptions = { keepFinished: 2, compactAtLines: Number.POSITIVE_INFINITY };
        let ledger = open(options);
        let model = new Map<string, LedgerState>();
        let last:
          | {
              before: Buffer;
              after: Buffer;
              appended: boolean;
              was: ReturnType<typeof snapshot>;
              is: ReturnType<typeof snapshot>;
              model: typeof model;
            }
          | undefined;

        for (const op of ops) {
          if (op.kind === 'crash') {
            const settled = snapshot(ledger, nonces);
            ledger.close();
            let completed = true;
            if (last?.appended) {
              // Power lost mid-append: any prefix of the new line reached the disk.
              const extra = last.after.length - last.before.length;
              const k = Math.min(extra, Math.floor(op.cut * (extra + 1)));
              writeFileSync(file, last.after.subarray(0, last.before.length + k));
              completed = k === extra;
            } else if (last) {
              // Power lost mid-compaction: the rename happened or it did not.
              completed = op.cut >= 0.5;
              writeFileSync(file, completed ? last.after : last.before);
            }
            ledger = open(options);
            const expected = last ? (completed ? last.is : last.was) : settled;
            expect(snapshot(ledger, nonces)).toEqual(expected);
            if (last && !completed) model = last.model;
            last = undefined;
          } else {
            const before = bytes();
            const was = snapshot(ledger, nonces);
            const previousModel = new Map(model);
            if (op.kind === 'compact') {
              ledger.compact();
            } else {
              const id = ids[op.id]!;
              const legal = LEGAL[model.get(id) ?? 'unseen'];
              if (legal.length === 0) {
                expect(() => ledger.record(id, op.id + 1, 'running')).toThrow(LedgerError);
                expect(bytes()).toEqual(before);
                last = undefined;
                continue;
              }
              const state = legal[op.pick % legal.length]!;
              ledger.record(id, op.id + 1, state, state === 'received' ? { nonce: nonces[op.id]!, expiresAt: expiries[op.id]! } : {});
              model.set(id, state);
            }
            last = { before, after: bytes(), appended: op.kind === 'record', was, is: snapshot(ledger, nonces), model: previousModel };
          }

          // Unfinished work is never forgotten; finished work is remembered as it ended or (once
          // compacted away) not at all; nothing is remembered that the model never recorded.
          for (const [id, state] of model) {
            const got = ledger.stateOf(id);
            if (isUnfinished(state)) expect(got).toBe(state);
            else expect(got === undefined || got === state).toBe(true);
          }
          for (const e of ledger.list()) expect(model.get(e.assignmentId)).toBe(e.state);
        }
        // A clean restart at the end sees exactly what the last process knew.
        const final = snapshot(ledger, nonces);
        ledger.close();
        expect(snapshot(open(options), nonces)).toEqual(final);
      }),
      { numRuns: 150 },
    );
  });

  it('cut at any byte reloads the state after some prefix of the records, and goes on appending cleanly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.nat({ max: POOL - 1 }), pick: fc.nat({ max: 5 }) }), { minLength: 1, maxLength: 25 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (ops, cut) => {
          rmSync(path.dirname(file), { recursive: true, force: true });
          const ids = Array.from({ length: POOL }, () => randomUUID());
          const nonces = ids.map(() => randomToken());
          const ledger = open();
          const model = new Map<string, LedgerState>();
          const history = [{ size: 0, state: snapshot(ledger, nonces) }];
          for (const op of ops) {
            const id = ids[op.id]!;
            const legal = LEGAL[model.get(id) ?? 'unseen'];
            if (legal.length === 0) continue;
            const state = legal[op.pick % legal.length]!;
            ledger.record(id, op.id + 1, state, state === 'received' ? { nonce: nonces[op.id]!, expiresAt: FUTURE } : {});
            model.set(id, state);
            history.push({ size: bytes().length, state: snapshot(ledger, nonces) });
          }
          ledger.close();
          const full = bytes();
          const offset = Math.floor(cut * full.length);
          writeFileSync(file, full.subarray(0, offset));

          const reloaded = open();
          const expected = history.filter((h) => h.size <= offset).at(-1)!;
          expect(snapshot(reloaded, nonces)).toEqual(expected.state);
          const fresh = randomUUID();
          reloaded.record(fresh, 1000, 'received');
          reloaded.close();
          const after = open();
          expect(after.stateOf(fresh)).toBe('received');
          expect(after.list().length).toBe(expected.state.entries.length + 1);
          after.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
