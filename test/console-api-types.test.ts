import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiTypesSource } from '../scripts/api-types-source.js';

describe('console API types', () => {
  it('packages/console/src/api/schema.d.ts matches the server OpenAPI document (run npm run api:types when it does not)', async () => {
    const committed = readFileSync(new URL('../packages/console/src/api/schema.d.ts', import.meta.url), 'utf8');
    expect(committed === (await apiTypesSource()), 'schema.d.ts is stale: run npm run api:types').toBe(true);
  });
});
