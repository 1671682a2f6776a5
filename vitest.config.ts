import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources in tests, so no build is needed first.
const alias = {
  '@brier/protocol': fileURLToPath(new URL('./packages/protocol/src/index.ts', import.meta.url)),
};

export default defineConfig({
  resolve: { alias },
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    projects: [
      { resolve: { alias }, test: { name: 'protocol', include: ['packages/protocol/src/**/*.test.ts'] } },
      {
        resolve: { alias },
        test: { name: 'server', include: ['packages/server/src/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
      },
      { resolve: { alias }, test: { name: 'agent', include: ['packages/agent/src/**/*.test.ts'], testTimeout: 30_000 } },
      { test: { name: 'console', include: ['packages/console/src/**/*.test.{ts,tsx}'] } },
      { resolve: { alias }, test: { name: 'cli', include: ['packages/cli/src/**/*.test.ts'], testTimeout: 30_000 } },
      { resolve: { alias }, test: { name: 'system', include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
    ],
  },
});
