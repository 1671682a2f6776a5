// Differential test: our rpm ordering against the real rpm, on thousands of generated pairs, in one
// `rpm --eval` whose Lua loop reads the pairs from a file (one process, not one per pair).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { probeTool, requireTool } from './__fixtures__/tool-available.js';
import { compareRpm, compareRpmEvr } from './rpm.js';

const rpm = probeTool('rpm', 'Debian: apt-get install rpm', 'rpm', ['--version']);
const seed = process.env.BRIER_FC_SEED ? Number(process.env.BRIER_FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const runs = Number(process.env.BRIER_FC_RUNS ?? 6000);
// Generous, for a loaded CI machine; vitest's default of 5 s is too short for a batch of thousands.
const TIMEOUT_MS = Math.max(60_000, runs * 20);

const dir = mkdtempSync(join(tmpdir(), 'brier-rpm-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Runs rpm.vercmp over every line "a<TAB>b" of the input file and writes one answer a line ("error"
// when rpm refuses the pair), so a single rpm process answers the whole batch.
const LUA = `%{lua:
local out = assert(io.open(rpm.expand("%{brier_out}"), "w"))
for line in io.lines(rpm.expand("%{brier_in}")) do
  local a, b = line:match("^(.-)\\t(.*)$")
  local ok, r = pcall(rpm.vercmp, a, b)
  out:write(ok and tostring(r) or "error", "\\n")
end
out:close()
}`;

function rpmVercmpBatch(pairs: ReadonlyArray<readonly [string, string]>): string[] {
  const input = join(dir, 'pairs.txt');
  const output = join(dir, 'answers.txt');
  writeFileSync(input, pairs.map(([a, b]) => `${a}\t${b}\n`).join(''));
  const result = spawnSync('rpm', ['--define', `brier_in ${input}`, '--define', `brier_out ${output}`, '--eval', LUA], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`rpm --eval failed (${result.status}): ${result.stderr}`);
  const answers = readFileSync(output, 'utf8').split('\n').slice(0, -1);
  if (answers.length !== pairs.length) throw new Error(`rpm answered ${answers.length} of ${pairs.length} pairs: ${result.stderr}`);
  return answers;
}

/** Pieces rpm versions are made of, weighted towards the ones whose ordering is subtle. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('0', '1', '2', '9', '00', '01', '10', '010', '99', '100', '0001') },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String) },
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'z', 'A', 'Z', 'rc', 'git', 'el', 'fc', 'p', 'pre', 'beta') },
  { weight: 5, arbitrary: fc.constantFrom('.', '.', '-', '~', '^', '+', '_', ':', '~~', '^^') },
  { weight: 1, arbitrary: fc.constantFrom('α', 'ββ', '%', ' ', '/', '') },
);
const rpmVersion = fc
  .array(piece, { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(''))
  .filter((v) => v !== '');

/** One random edit, so that many pairs are equal or nearly so. */
const mutated = (v: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(v),
    piece.map((p) => `${v}${p}`),
    fc.tuple(fc.nat(v.length), piece).map(([i, p]) => `${v.slice(0, i)}${p}${v.slice(i)}`),
    fc.nat(Math.max(0, v.length - 1)).map((i) => `${v.slice(0, i)}${v.slice(i + 1)}` || v),
  );

const pair = fc.oneof(
  fc.tuple(rpmVersion, rpmVersion),
  rpmVersion.chain((a) => fc.tuple(fc.constant(a), mutated(a))),
);

describe('rpm ordering against the real rpm', () => {
  it(`agrees with rpm.vercmp on ${runs} generated pairs (seed ${seed}, BRIER_FC_SEED/BRIER_FC_RUNS to change)`, {
    timeout: TIMEOUT_MS,
  }, (context) => {
    requireTool(context, rpm);
    const pairs = fc.sample(pair, { seed, numRuns: runs });
    const answers = rpmVercmpBatch(pairs);
    const mismatches: string[] = [];
    let plain = 0;
    pairs.forEach(([a, b], i) => {
      const expected = answers[i];
      let ours: string;
      try {
        ours = String(compareRpmEvr(a, b));
      } catch (err) {
        ours = `error: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (ours !== expected) mismatches.push(`rpm.vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)}) = ${expected}, ours ${ours}`);
      // Without ':' and '-' the EVR has only a version, so plain rpmvercmp must agree as well.
      if (!/[:-]/.test(a + b)) {
        plain++;
        const raw = String(compareRpm(a, b));
        if (raw !== expected) mismatches.push(`rpmvercmp(${JSON.stringify(a)}, ${JSON.stringify(b)}) = ${expected}, ours ${raw}`);
      }
    });
    expect(mismatches.slice(0, 20), `seed ${seed}: ${mismatches.length} disagreements`).toEqual([]);
    // The generator must keep producing the interesting cases: equal pairs, both orders, plain versions.
    expect(answers.filter((r) => r === '0').length).toBeGreaterThan(runs / 20);
    expect(answers.filter((r) => r === '-1').length).toBeGreaterThan(runs / 5);
    expect(answers.filter((r) => r === '1').length).toBeGreaterThan(runs / 5);
    expect(plain).toBeGreaterThan(runs / 20);
  });
});
