import { describe, expect, it } from 'vitest';
import { oracleLines, readOracle, scalibrCases } from './__fixtures__/oracles.js';
import { compareDpkg, compareDpkgVersions, type DpkgVersion, isValidDpkg, parseDpkg } from './dpkg.js';
import { VersionError } from './version-error.js';

const lenient = { lenient: true };

/** How parseversion ends for `v`: ok, a warning (dpkg still compares) or an error (dpkg exits 2). */
function outcome(v: string): 'ok' | 'warning' | 'error' {
  if (isValidDpkg(v)) return 'ok';
  return isValidDpkg(v, lenient) ? 'warning' : 'error';
}

describe('dpkg oracle: Dpkg_Version.t __DATA__', () => {
  const cases = oracleLines('dpkg/Dpkg_Version.t.DATA.txt');

  it('has every line of the data block', () => {
    expect(cases).toHaveLength(43);
  });

  for (const { line, fields } of cases) {
    const [a, b, expected] = fields as [string, string, string];
    it(`line ${line}: ${a} compared with ${b} is ${expected}`, () => {
      expect(compareDpkg(a, b)).toBe(Number(expected));
      expect(compareDpkg(b, a)).toBe(-Number(expected) || 0);
    });
  }
});

/**
 * lib/dpkg/t/t-version.c, read as data: a small interpreter for the handful of statement forms its
 * compare, relate and parse tests use (DPKG_VERSION_OBJECT, dpkg_version_compare, dpkg_version_relate,
 * parseversion with test_error/test_warn, and the loops over invalid characters).
 */
interface TVersionCase {
  name: string;
  check: () => void;
}

function unescapeC(text: string): string {
  return text.replace(/\\(.)/g, (_, ch: string) => ({ n: '\n', t: '\t' })[ch] ?? ch);
}

function extractTVersionCases(source: string): TVersionCase[] {
  const cases: TVersionCase[] = [];
  const blank: DpkgVersion = { epoch: 0, upstream: '', revision: '' };
  const vars: Record<'a' | 'b', DpkgVersion> = { a: blank, b: blank };
  let lastFailure: { input: string; line: number } | undefined;
  const lines = source.split('\n');
  let inScope = false;
  const str = '"((?:[^"\\\\]|\\\\.)*)"';

  const expectParseFailure = (input: string, line: number): void => {
    lastFailure = { input, line };
  };
  const level = (kind: 'error' | 'warn', line: number): void => {
    const failure = lastFailure;
    if (!failure) throw new Error(`t-version.c:${line}: test_${kind} without a failed parse before it`);
    const expected = kind === 'warn' ? 'warning' : 'error';
    cases.push({
      name: `t-version.c:${failure.line} parseversion(${JSON.stringify(failure.input)}) fails with a dpkg ${expected}`,
      check: () => {
        expect(() => parseDpkg(failure.input)).toThrow(VersionError);
        expect(outcome(failure.input)).toBe(expected);
      },
    });
    lastFailure = undefined;
  };

  type Name = 'a' | 'b';
  /** Each statement form: its pattern, and what it means; the handler returns how many extra lines it consumed. */
  const statements: Array<[RegExp, (m: RegExpExecArray, line: number, i: number) => number]> = [
    [
      /^\s*dpkg_version_blank\(&([ab])\);/,
      (m) => {
        vars[m[1] as Name] = blank;
        return 0;
      },
    ],
    [
      /^\s*([ab])\.epoch = (\d+);/,
      (m) => {
        const name = m[1] as Name;
        vars[name] = { ...vars[name], epoch: Number(m[2]) };
        return 0;
      },
    ],
    [
      new RegExp(`^\\s*((?:[ab] = )+)DPKG_VERSION_OBJECT\\((\\d+), ${str}, ${str}\\);`),
      (m) => {
        const value: DpkgVersion = { epoch: Number(m[2]), upstream: unescapeC(m[3] ?? ''), revision: unescapeC(m[4] ?? '') };
        for (const name of (m[1] ?? '').match(/[ab]/g) ?? []) vars[name as Name] = value;
        return 0;
      },
    ],
    [
      /^\s*test_(pass|fail)\(dpkg_version_compare\(&([ab]), &([ab])\) (==|<|>) 0\);/,
      (m, line) => {
        const [, passFail, x, y, op] = m as unknown as [string, string, Name, Name, string];
        const left = vars[x];
        const right = vars[y];
        const holds = passFail === 'pass';
        cases.push({
          name: `t-version.c:${line} dpkg_version_compare(${JSON.stringify(left)}, ${JSON.stringify(right)}) ${op} 0 is ${holds}`,
          check: () => {
            const r = compareDpkgVersions(left, right);
            expect(op === '==' ? r === 0 : op === '<' ? r < 0 : r > 0).toBe(holds);
          },
        });
        return 0;
      },
    ],
    [
      /^\s*test_(pass|fail)\(dpkg_version_relate\(&a, DPKG_RELATION_(\w+), &b\)\);/,
      (m, line) => {
        const [, passFail, relation] = m as unknown as [string, string, string];
        const left = vars.a;
        const right = vars.b;
        cases.push({
          name: `t-version.c:${line} ${JSON.stringify(left)} ${relation} ${JSON.stringify(right)} is ${passFail === 'pass'}`,
          check: () => {
            const r = compareDpkgVersions(left, right);
            const relates = { NONE: true, EQ: r === 0, LT: r < 0, LE: r <= 0, GT: r > 0, GE: r >= 0 }[relation];
            expect(relates).toBe(passFail === 'pass');
          },
        });
        return 0;
      },
    ],
    [
      new RegExp(`^\\s*test_(pass|fail)\\(parseversion\\(&a, ${str}, (?:NULL|&err)\\) (==|!=) 0\\);`),
      (m, line) => {
        const input = unescapeC(m[2] ?? '');
        const succeeds = (m[1] === 'pass') === (m[3] === '==');
        if (!succeeds) {
          expectParseFailure(input, line);
          return 0;
        }
        vars.a = parseDpkg(input);
        cases.push({
          name: `t-version.c:${line} parseversion(${JSON.stringify(input)}) succeeds`,
          check: () => expect(isValidDpkg(input)).toBe(true),
        });
        return 0;
      },
    ],
    [
      /^\s*test_(error|warn)\(err\);/,
      (m, line) => {
        level(m[1] as 'error' | 'warn', line);
        return 0;
      },
    ],
    [
      // verstr = "..."; for (p = "chars"; *p; p++) { verstr[N] = *p; test_fail(parseversion(&a, verstr, &err) == 0); test_warn(err); }
      new RegExp(`^\\s*verstr = test_alloc\\(strdup\\(${str}\\)\\);`),
      (m, line, i) => {
        const template = unescapeC(m[1] ?? '');
        const loop = new RegExp(`^\\s*for \\(p = ${str}; \\*p; p\\+\\+\\) \\{`).exec(lines[i + 1] ?? '');
        const assign = /^\s*verstr\[(\d+)\] = \*p;/.exec(lines[i + 2] ?? '');
        const parse = /^\s*test_fail\(parseversion\(&a, verstr, &err\) == 0\);/.exec(lines[i + 3] ?? '');
        const kind = /^\s*test_(error|warn)\(err\);/.exec(lines[i + 4] ?? '');
        if (!loop || !assign || !parse || !kind) throw new Error(`t-version.c:${line}: unexpected loop shape`);
        const index = Number(assign[1]);
        for (const ch of unescapeC(loop[1] ?? '')) {
          expectParseFailure(template.slice(0, index) + ch + template.slice(index + 1), line + 3);
          level(kind[1] as 'error' | 'warn', line + 4);
        }
        return 4;
      },
    ],
  ];

  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? '';
    const line = i + 1;
    const fn = /^test_version_(\w+)\(void\)/.exec(text);
    if (fn) inScope = ['compare', 'relate', 'parse'].includes(fn[1] ?? '');
    if (!inScope) continue;

    const statement = statements.find(([pattern]) => pattern.test(text));
    if (statement) {
      const [pattern, handle] = statement;
      i += handle(pattern.exec(text) as RegExpExecArray, line, i);
    } else if (/parseversion|dpkg_version_compare|dpkg_version_relate|DPKG_VERSION_OBJECT|test_(error|warn)/.test(text)) {
      throw new Error(`t-version.c:${line}: statement not understood: ${text.trim()}`);
    }
  }
  if (lastFailure) throw new Error(`t-version.c:${lastFailure.line}: failed parse without test_error/test_warn`);
  return cases;
}

describe('dpkg oracle: lib/dpkg/t/t-version.c', () => {
  const cases = extractTVersionCases(readOracle('dpkg/t-version.c'));

  it('extracts every compare, relate and parse check of the file', () => {
    // 30 compare + 16 relate + 17 successful parses + 14 single failures + 24 + 25 failures in the two loops.
    expect(cases).toHaveLength(126);
  });

  for (const c of cases) it(c.name, c.check);
});

describe('dpkg oracle: osv-scalibr debian-versions.txt', () => {
  const cases = scalibrCases('osv-scalibr/debian-versions.txt');
  it('has every comparison of the file', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });
  for (const { line, a, b, expected } of cases) {
    it(`line ${line}: ${a} compared with ${b} is ${expected}`, () => {
      expect(compareDpkg(a, b)).toBe(expected);
    });
  }
});

describe('dpkg parsing', () => {
  it('splits epoch, upstream and revision at the first colon and the last hyphen', () => {
    expect(parseDpkg('2:1.0-rc1-3')).toEqual({ epoch: 2, upstream: '1.0-rc1', revision: '3' });
    expect(parseDpkg('0:1.2:3')).toEqual({ epoch: 0, upstream: '1.2:3', revision: '' });
    expect(parseDpkg('0:1:2-3')).toEqual({ epoch: 0, upstream: '1:2', revision: '3' });
  });

  it('accepts epochs the way strtol reads them: a plus sign, a negative zero, leading zeros', () => {
    expect(parseDpkg('+1:0')).toEqual({ epoch: 1, upstream: '0', revision: '' });
    expect(parseDpkg('-0:1')).toEqual({ epoch: 0, upstream: '1', revision: '' });
    expect(parseDpkg('007:1')).toEqual({ epoch: 7, upstream: '1', revision: '' });
    expect(parseDpkg('2147483647:1').epoch).toBe(2147483647);
  });

  it.each([
    ['', 'version string is empty'],
    [' \t ', 'version string is empty'],
    ['1.0 1', 'version string has embedded spaces'],
    ['1.0\t1', 'version string has embedded spaces'],
    [':1', 'epoch in version is empty'],
    ['+:1', 'epoch in version is empty'],
    ['a:1', 'epoch in version is empty'],
    ['1a:1', 'epoch in version is not number'],
    ['0x1:0', 'epoch in version is not number'],
    ['-1:0', 'epoch in version is negative'],
    ['2147483648:0', 'epoch in version is too big'],
    ['99999999999999999999999999:0', 'epoch in version is too big'],
    ['1:', 'nothing after colon in version number'],
    ['1: ', 'version number is empty'],
    ['1.0-', 'revision number is empty'],
    ['-1', 'version number is empty'],
    ['abc', 'version number does not start with digit'],
    ['1.0_1', 'invalid character in version number'],
    ['1.0-1_1', 'invalid character in revision number'],
    ['0:1.0-1:1', 'invalid character in revision number'],
    ['1.2:3', 'epoch in version is not number'],
    ['1.0é', 'invalid character in version number'],
  ])('refuses %j with dpkg’s message “%s”', (input, reason) => {
    expect(() => parseDpkg(input)).toThrow(expect.objectContaining({ code: 'version-invalid', scheme: 'dpkg', reason }));
  });

  it('orders what dpkg only warns about when asked to be lenient, as dpkg --compare-versions does', () => {
    expect(() => compareDpkg('abc', 'abd')).toThrow(VersionError);
    expect(compareDpkg('abc', 'abd', lenient)).toBe(-1);
    expect(compareDpkg('1_1', '1+1', lenient)).toBe(1);
    expect(() => compareDpkg('1:', '1', lenient)).toThrow(VersionError);
  });

  it('orders non-ASCII bytes as dpkg does in lenient mode: after letters, before ASCII punctuation', () => {
    expect(compareDpkg('1é', '1z', lenient)).toBe(1);
    expect(compareDpkg('1é', '1+', lenient)).toBe(-1);
    expect(compareDpkg('1é', '1', lenient)).toBe(1);
  });

  it('trims leading and trailing blanks as dpkg does', () => {
    expect(compareDpkg(' \t1.0-1\t ', '1.0-1')).toBe(0);
  });
});

describe('dpkg ordering', () => {
  it('sorts tilde before the end of the string and letters before other characters', () => {
    const sorted = ['1.0~~', '1.0~~a', '1.0~', '1.0', '1.0a', '1.0z', '1.0+', '1.0.', '1.0.1'];
    const shuffled = [...sorted].reverse();
    expect(shuffled.sort(compareDpkg)).toEqual(sorted);
  });

  it('compares digit runs numerically, however long', () => {
    expect(compareDpkg('1.0000000000000000000000000000000009', '1.9')).toBe(0);
    expect(compareDpkg('1.99999999999999999999999999999', '1.100000000000000000000000000000')).toBe(-1);
  });

  it('orders by epoch first', () => {
    expect(compareDpkg('1:0.1', '9.9')).toBe(1);
    expect(compareDpkg('0:9.9', '9.9')).toBe(0);
  });
});
