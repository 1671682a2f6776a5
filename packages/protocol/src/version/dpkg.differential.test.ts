// Differential test: our dpkg ordering and validation against the real `dpkg --compare-versions`, on
// thousands of generated pairs. A sh loop per CPU runs dpkg over a file of pairs (the pairs travel as
// lines read with `read -r` and are passed as quoted arguments after `--`, so no value is ever parsed
// by the shell or taken for an option).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { probeTool, requireTool } from './__fixtures__/tool-available.js';
import { compareDpkg, parseDpkg } from './dpkg.js';
import { VersionError } from './version-error.js';

const dpkg = probeTool('dpkg', 'Debian: apt-get install dpkg', 'dpkg', ['--version']);
const seed = process.env.BRIER_FC_SEED ? Number(process.env.BRIER_FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const runs = Number(process.env.BRIER_FC_RUNS ?? 3000);
// Generous: about 1 ms of dpkg per pair on a loaded 2-core CI machine, and vitest's default is 5 s.
const TIMEOUT_MS = Math.max(60_000, runs * 20);

const dir = mkdtempSync(join(tmpdir(), 'brier-dpkg-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What dpkg said about one pair: its ordering (undefined when it stopped with an error) and its messages. */
interface DpkgAnswer {
  order: -1 | 0 | 1 | undefined;
  warnings: Array<{ version: string; reason: string }>;
  error: { version: string; reason: string } | undefined;
}

// For each pair: `lt` answers -1 (exit 0), "not less" (exit 1) or a syntax error (exit 2, "dpkg: error");
// only "not less" needs a second run, `gt`, to tell 0 from 1. dpkg's warnings share stdout, in order,
// and "@@ <lt exit> [<gt exit>]" closes each pair.
const LOOP = `
while IFS= read -r a && IFS= read -r b; do
  dpkg --compare-versions -- "$a" lt "$b" 2>&1
  lt=$?
  if [ "$lt" -eq 1 ]; then
    dpkg --compare-versions -- "$a" gt "$b" 2>/dev/null
    echo "@@ $lt $?"
  else
    echo "@@ $lt"
  fi
done < "$1"
`;

function runLoop(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', LOOP, 'sh', file], {
      env: { ...process.env, LC_ALL: 'C', LANGUAGE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`dpkg loop exited ${code}: ${Buffer.concat(err).toString('utf8')}`));
      else resolve(Buffer.concat(out).toString('utf8'));
    });
  });
}

const MESSAGE = /^dpkg: (warning|error): version '(.*)' has bad syntax: (.*)$/;

function parseAnswers(text: string, count: number): DpkgAnswer[] {
  const answers: DpkgAnswer[] = [];
  let current: DpkgAnswer = { order: undefined, warnings: [], error: undefined };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const done = /^@@ (\d)(?: (\d))?$/.exec(line);
    if (done) {
      const [lt, gt] = [Number(done[1]), done[2] === undefined ? undefined : Number(done[2])];
      if (lt === 0) current.order = -1;
      else if (lt === 1) current.order = gt === 0 ? 1 : 0;
      else if (current.error === undefined) throw new Error(`dpkg exited ${lt} without an error message`);
      answers.push(current);
      current = { order: undefined, warnings: [], error: undefined };
      continue;
    }
    const m = MESSAGE.exec(line);
    if (!m) throw new Error(`unexpected dpkg output: ${line}`);
    const message = { version: m[2] ?? '', reason: m[3] ?? '' };
    if (m[1] === 'warning') current.warnings.push(message);
    else current.error = message;
  }
  if (answers.length !== count) throw new Error(`dpkg answered ${answers.length} of ${count} pairs`);
  return answers;
}

async function dpkgBatch(pairs: ReadonlyArray<readonly [string, string]>): Promise<DpkgAnswer[]> {
  const shards = Math.max(1, Math.min(4, availableParallelism()));
  const size = Math.ceil(pairs.length / shards);
  const parts = await Promise.all(
    Array.from({ length: shards }, (_, s) => {
      const shard = pairs.slice(s * size, (s + 1) * size);
      const file = join(dir, `pairs-${s}.txt`);
      writeFileSync(file, shard.map(([a, b]) => `${a}\n${b}\n`).join(''));
      return runLoop(file).then((text) => parseAnswers(text, shard.length));
    }),
  );
  return parts.flat();
}

/** Pieces Debian versions are made of, weighted towards the ones whose ordering is subtle. */
const digits = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('0', '1', '2', '9', '00', '01', '10', '010', '99', '100') },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 10n ** 22n }).map(String) },
);
const letters = fc.constantFrom('a', 'b', 'z', 'A', 'Z', 'rc', 'dfsg', 'deb', 'ubuntu', 'build');
const upstreamPiece = fc.oneof(
  { weight: 6, arbitrary: digits },
  { weight: 4, arbitrary: letters },
  { weight: 5, arbitrary: fc.constantFrom('.', '.', '+', '~', '~~', '-', ':') },
);
const revisionPiece = fc.oneof(
  { weight: 3, arbitrary: digits },
  { weight: 2, arbitrary: letters },
  { weight: 2, arbitrary: fc.constantFrom('.', '+', '~') },
);

/** Versions in dpkg's grammar (a colon in the upstream part only after an epoch, where dpkg allows it). */
const wellFormed = fc
  .record({
    epoch: fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('0:', '1:', '2:', '10:', '01:') }),
    first: digits,
    rest: fc.array(upstreamPiece, { maxLength: 6 }),
    revision: fc.option(fc.array(revisionPiece, { minLength: 1, maxLength: 3 }), { freq: 2 }),
  })
  .map(({ epoch, first, rest, revision }) => {
    const upstream = `${first}${rest.join('')}`;
    return `${epoch}${epoch === '' ? upstream.replaceAll(':', '.') : upstream}${revision === null ? '' : `-${revision.join('')}`}`;
  });

/** What dpkg warns about or refuses: characters outside its set, blanks, non-ASCII, bad epochs, empty parts. */
const junk = fc.constantFrom('_', '!', ' ', '\t', 'é', 'ß', 'Ω', '%', ':', '-', 'a');
const damaged = (v: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.tuple(fc.nat(v.length), junk).map(([i, j]) => `${v.slice(0, i)}${j}${v.slice(i)}`),
    fc.constantFrom(':', '-1:', '+1:', '-0:', 'a:', '2147483647:', '2147483648:', '99999999999999999999:').map((e) => `${e}${v}`),
    fc.constantFrom('a', 'A', '~', '.', '-', ' ', '\t').map((c) => `${c}${v}`),
    fc.constantFrom('-', ':', ' ', '\t', ' x').map((c) => `${v}${c}`),
  );

const dpkgVersion = fc.oneof({ weight: 6, arbitrary: wellFormed }, { weight: 1, arbitrary: wellFormed.chain(damaged) });

/** One random edit, so that many pairs are equal or nearly so. */
const mutated = (v: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(v),
    upstreamPiece.map((p) => `${v}${p}`),
    fc.tuple(fc.nat(v.length), upstreamPiece).map(([i, p]) => `${v.slice(0, i)}${p}${v.slice(i)}`),
    fc.nat(Math.max(0, v.length - 1)).map((i) => `${v.slice(0, i)}${v.slice(i + 1)}` || v),
  );

const pair = fc.oneof(
  fc.tuple(dpkgVersion, dpkgVersion),
  dpkgVersion.chain((a) => fc.tuple(fc.constant(a), mutated(a))),
);

/** How parseDpkg treats `v`: accepted, refused as dpkg's warning (lenient accepts), or refused outright. */
function ourVerdict(v: string): { level: 'ok' | 'warning' | 'error'; reason?: string } {
  try {
    parseDpkg(v);
    return { level: 'ok' };
  } catch (strict) {
    if (!(strict instanceof VersionError)) throw strict;
    try {
      parseDpkg(v, { lenient: true });
      return { level: 'warning', reason: strict.reason };
    } catch (err) {
      if (!(err instanceof VersionError)) throw err;
      return { level: 'error', reason: err.reason };
    }
  }
}

describe('dpkg ordering against the real dpkg --compare-versions', () => {
  it(`agrees with dpkg on ordering and validity of ${runs} generated pairs (seed ${seed}, BRIER_FC_SEED/BRIER_FC_RUNS to change)`, {
    timeout: TIMEOUT_MS,
  }, async (context) => {
    requireTool(context, dpkg);
    const pairs = fc.sample(pair, { seed, numRuns: runs });
    const answers = await dpkgBatch(pairs);
    const mismatches: string[] = [];
    const stats = { ordered: 0, clean: 0, equal: 0, warned: 0, refused: 0 };

    pairs.forEach(([a, b], i) => {
      const answer = answers[i];
      if (!answer) throw new Error(`no answer for pair ${i}`);
      const show = `dpkg --compare-versions ${JSON.stringify(a)} ? ${JSON.stringify(b)}`;
      // dpkg parses a, then b, and stops at the first error; it warns about each version it parses.
      const checked = answer.error && answer.error.version === a ? [a] : [a, b];
      for (const v of checked) {
        const ours = ourVerdict(v);
        const error = answer.error?.version === v ? answer.error : undefined;
        const warning = answer.warnings.find((w) => w.version === v);
        const theirs = error
          ? { level: 'error', reason: error.reason }
          : warning
            ? { level: 'warning', reason: warning.reason }
            : { level: 'ok' };
        if (ours.level !== theirs.level || ours.reason !== theirs.reason) {
          mismatches.push(`${show}: dpkg says ${JSON.stringify(v)} is ${JSON.stringify(theirs)}, ours ${JSON.stringify(ours)}`);
        }
      }
      if (answer.error) {
        stats.refused++;
        if (!throwsVersionError(() => compareDpkg(a, b, { lenient: true }))) mismatches.push(`${show}: dpkg refused, ours compared`);
        return;
      }
      if (answer.warnings.length > 0) {
        stats.warned++;
        // Strict mode refuses what dpkg only warns about.
        if (!throwsVersionError(() => compareDpkg(a, b))) mismatches.push(`${show}: dpkg warned, strict compareDpkg did not throw`);
      }
      stats.ordered++;
      if (answer.warnings.length === 0) stats.clean++;
      if (answer.order === 0) stats.equal++;
      let ours: string;
      try {
        ours = String(compareDpkg(a, b, { lenient: true }));
      } catch (err) {
        ours = `error: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (ours !== String(answer.order)) mismatches.push(`${show}: dpkg ${answer.order}, ours ${ours}`);
    });

    expect(mismatches.slice(0, 20), `seed ${seed}: ${mismatches.length} disagreements`).toEqual([]);
    // The generator must keep producing every kind of case, or this test would quietly test less.
    expect(stats.ordered).toBeGreaterThan(runs / 2);
    expect(stats.clean).toBeGreaterThan(runs / 2);
    expect(stats.equal).toBeGreaterThan(runs / 50);
    expect(stats.warned).toBeGreaterThan(runs / 50);
    expect(stats.refused).toBeGreaterThan(runs / 50);
  });
});

function throwsVersionError(run: () => unknown): boolean {
  try {
    run();
    return false;
  } catch (err) {
    if (err instanceof VersionError) return true;
    throw err;
  }
}
