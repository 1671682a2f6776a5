/**
 * Writes the console's API types (packages/console/src/api/schema.d.ts) from the server's own
 * OpenAPI document, so the console and the server cannot drift apart silently:
 * test/console-api-types.test.ts fails when the committed file is stale.
 *
 *   npm run api:types          rewrite the file
 *   npm run api:types -- --check   exit 1 when it is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiTypesSource } from './api-types-source.js';

const target = fileURLToPath(new URL('../packages/console/src/api/schema.d.ts', import.meta.url));
const source = await apiTypesSource();
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== source) {
    console.error('packages/console/src/api/schema.d.ts is stale: run npm run api:types');
    process.exit(1);
  }
  console.log('api types are up to date');
} else {
  writeFileSync(target, source);
  console.log(`wrote ${target}`);
}
