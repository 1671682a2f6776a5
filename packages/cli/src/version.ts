import { createRequire } from 'node:module';

// package.json sits one level above both src/ (tests) and dist/ (installed), so one path serves both.
const manifest: unknown = createRequire(import.meta.url)('../package.json');

export const CLI_VERSION: string =
  typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string'
    ? manifest.version
    : 'unknown';
