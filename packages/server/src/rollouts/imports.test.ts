import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** What rollout domain code may import: itself, the protocol, Node built-ins, cron-parser and other domain types. */
const ALLOWED = [/^\.\/[a-z-]+\.js$/, /^@brier\/protocol$/, /^node:/, /^cron-parser$/, /^\.\.\/auth\/types\.js$/];

describe('rollout domain imports', () => {
  it('imports no framework, driver, store or API module, so it stays pure and testable', () => {
    const dir = new URL('.', import.meta.url);
    const seen: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const [, specifier] of source.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
        seen.push(specifier!);
        expect(
          ALLOWED.some((re) => re.test(specifier!)),
          `${file} imports ${specifier}`,
        ).toBe(true);
      }
    }
    // Guards the pattern itself: it must see the imports known to be there.
    expect(seen).toEqual(expect.arrayContaining(['cron-parser', '@brier/protocol', '../auth/types.js', './errors.js']));
  });
});
