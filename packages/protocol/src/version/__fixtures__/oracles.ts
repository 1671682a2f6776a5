// Test-side access to the oracle data in test/oracles (copied unchanged from upstream projects; never edited).
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInThisContext } from 'node:vm';

const ORACLES = new URL('../../../../../test/oracles/', import.meta.url);

export function oracleUrl(relative: string): URL {
  return new URL(relative, ORACLES);
}

export function readOracle(relative: string): string {
  return readFileSync(oracleUrl(relative), 'utf8');
}

export interface OracleLine {
  /** 1-based line number in the oracle file, for test names. */
  line: number;
  fields: string[];
}

/** The non-blank lines that are not `#` comments, split on whitespace. */
export function oracleLines(relative: string): OracleLine[] {
  const out: OracleLine[] = [];
  readOracle(relative)
    .split('\n')
    .forEach((text, index) => {
      const trimmed = text.trim();
      if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('//')) return;
      out.push({ line: index + 1, fields: trimmed.split(/\s+/) });
    });
  return out;
}

/** osv-scalibr's `A <op> B` lines as [a, expected, b]. */
export function scalibrCases(relative: string): Array<{ line: number; a: string; b: string; expected: -1 | 0 | 1 }> {
  return oracleLines(relative).map(({ line, fields }) => {
    const [a, op, b] = fields;
    const expected = op === '<' ? -1 : op === '=' ? 0 : op === '>' ? 1 : undefined;
    if (a === undefined || b === undefined || expected === undefined || fields.length !== 3) {
      throw new Error(`${relative}:${line}: not an "A <op> B" line`);
    }
    return { line, a, b, expected };
  });
}

/**
 * Loads one of node-semver's CommonJS fixture modules. Two of them require
 * '../../internal/constants' relative to their home in the node-semver repository; that one
 * request is answered with the installed semver package's own constants module.
 */
export function loadSemverFixture<T = unknown[]>(name: string): T {
  const url = oracleUrl(`node-semver/${name}`);
  const filename = fileURLToPath(url);
  const localRequire = createRequire(url);
  const semverRequire = createRequire(import.meta.url);
  const fixtureRequire = (request: string): unknown =>
    request === '../../internal/constants' ? semverRequire('semver/internal/constants') : localRequire(request);
  const mod = { exports: {} as unknown };
  const wrapped = runInThisContext(Module.wrap(readFileSync(filename, 'utf8')), { filename }) as (
    exports: unknown,
    require: (request: string) => unknown,
    module: { exports: unknown },
    __filename: string,
    __dirname: string,
  ) => void;
  wrapped(mod.exports, fixtureRequire, mod, filename, dirname(filename));
  return mod.exports as T;
}
