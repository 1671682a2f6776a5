import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkArchitecture, extractImports, formatViolation, readPackageSources, type SourceFile } from './support/architecture.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function file(path: string, text: string): SourceFile {
  return { path, text };
}

describe('the architecture', () => {
  it('keeps every import in packages/*/src within the dependency rules of DESIGN.md', async () => {
    const files = await readPackageSources(root);
    // Guard against a checker that passes because it read nothing (wrong root, changed layout).
    expect(files.length).toBeGreaterThan(5);
    expect(files.some((f) => f.path.startsWith('packages/protocol/src/'))).toBe(true);
    expect(files.every((f) => !f.path.includes('/dist/') && !f.path.includes('/node_modules/'))).toBe(true);
    expect(checkArchitecture(files).map(formatViolation)).toEqual([]);
  });
});

describe('the architecture checker', () => {
  it('finds static, type-only, re-exported, side-effect and dynamic imports but not ones in comments or strings', () => {
    const text = [
      "// import commented from 'commented';",
      "import a from 'a';",
      "import type { B } from 'b';",
      "export { c } from 'c';",
      "export * from 'd';",
      "import 'e';",
      'const s = "import g from \'g\'";',
      "const m = await import('f');",
    ].join('\n');
    expect(extractImports(text)).toEqual([
      { specifier: 'a', line: 2 },
      { specifier: 'b', line: 3 },
      { specifier: 'c', line: 4 },
      { specifier: 'd', line: 5 },
      { specifier: 'e', line: 6 },
      { specifier: 'f', line: 8 },
    ]);
  });

  it('reports each broken rule with the file, line and import', () => {
    const files = [
      file('packages/protocol/src/a.ts', "import { x } from '@brier/server';"),
      file('packages/protocol/src/b.ts', "import { x } from '../../server/src/app.js';"),
      file('packages/server/src/api/c.ts', "import { x } from '../../../agent/src/agent.js';"),
      file('packages/cli/src/d.ts', "import { x } from '@brier/server';"),
      file('packages/server/src/api/e.ts', "import { drizzle } from 'drizzle-orm/node-postgres';"),
      file('packages/server/src/jobs.ts', "import pg from 'pg';"),
      file('packages/server/src/vulns/f.ts', "const { PGlite } = await import('@electric-sql/pglite');"),
      file('packages/server/src/rollouts/g.ts', "import type { FastifyInstance } from 'fastify';"),
      file('packages/server/src/auth/h.ts', "import cookie from '@fastify/cookie';"),
      file('packages/server/src/store/i.ts', "export { WebSocket } from 'ws';"),
      file('packages/agent/src/j.ts', "import type { Server } from '@brier/server';"),
      file('packages/agent/src/k.ts', "import pg from 'pg';"),
      file('packages/agent/src/l.ts', "import fastify from 'fastify';"),
      file('packages/server/src/m.ts', "import { startPostgres } from '../../../test/support/postgres.js';"),
    ];
    expect(checkArchitecture(files).map(formatViolation)).toEqual([
      "packages/protocol/src/a.ts:1 imports '@brier/server' (protocol-imports-nothing-of-ours)",
      "packages/protocol/src/b.ts:1 imports '../../server/src/app.js' (protocol-imports-nothing-of-ours)",
      "packages/server/src/api/c.ts:1 imports '../../../agent/src/agent.js' (packages-meet-only-through-protocol)",
      "packages/cli/src/d.ts:1 imports '@brier/server' (packages-meet-only-through-protocol)",
      "packages/server/src/api/e.ts:1 imports 'drizzle-orm/node-postgres' (server-sql-only-in-store)",
      "packages/server/src/jobs.ts:1 imports 'pg' (server-sql-only-in-store)",
      "packages/server/src/vulns/f.ts:1 imports '@electric-sql/pglite' (server-sql-only-in-store)",
      "packages/server/src/rollouts/g.ts:1 imports 'fastify' (server-domain-without-transport)",
      "packages/server/src/auth/h.ts:1 imports '@fastify/cookie' (server-domain-without-transport)",
      "packages/server/src/store/i.ts:1 imports 'ws' (server-domain-without-transport)",
      "packages/agent/src/j.ts:1 imports '@brier/server' (agent-stays-light)",
      "packages/agent/src/k.ts:1 imports 'pg' (agent-stays-light)",
      "packages/agent/src/l.ts:1 imports 'fastify' (agent-stays-light)",
      "packages/server/src/m.ts:1 imports '../../../test/support/postgres.js' (packages-meet-only-through-protocol)",
    ]);
  });

  it('accepts the imports the design allows', () => {
    const files = [
      file('packages/protocol/src/index.ts', "export * from './envelope.js';\nimport { Type } from 'typebox';"),
      file(
        'packages/server/src/api/hosts.ts',
        "import { Envelope } from '@brier/protocol';\nimport type { FastifyPluginAsync } from 'fastify';",
      ),
      file('packages/server/src/gateway/session.ts', "import { WebSocket } from 'ws';\nimport { plan } from '../rollouts/plan.js';"),
      file(
        'packages/server/src/store/hosts.ts',
        "import { eq } from 'drizzle-orm';\nimport pg from 'pg';\nimport { PGlite } from '@electric-sql/pglite';",
      ),
      file('packages/server/src/store/hosts.test.ts', "import { requirePostgres } from '../../../../test/support/pg-available.js';"),
      file('packages/server/src/app.ts', "import fastify from 'fastify';\nimport { version } from '../package.json';"),
      file('packages/agent/src/transport/link.ts', "import { WebSocket } from 'ws';\nimport { sign } from '@brier/protocol';"),
      file('packages/cli/src/commands/hosts.ts', "import { parseArgs } from 'node:util';\nimport type { Host } from '@brier/protocol';"),
      // Outside packages/ the rules do not apply: whole-system tests use every package.
      file('test/rollout.test.ts', "import { buildServer } from '@brier/server';\nimport { buildAgent } from '@brier/agent';"),
    ];
    expect(checkArchitecture(files).map(formatViolation)).toEqual([]);
  });
});
