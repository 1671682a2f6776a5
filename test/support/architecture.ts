// The dependency rules of DESIGN.md as a pure function over source texts, so they can be checked on the real
// tree and on synthetic files that break each rule (proving the check is not vacuous).
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

export interface SourceFile {
  /** Path relative to the repository root, with forward slashes: `packages/server/src/api/hosts.ts`. */
  readonly path: string;
  readonly text: string;
}

export interface ImportRef {
  readonly specifier: string;
  /** 1-based line of the specifier, for messages that point at the offending line. */
  readonly line: number;
}

export type Rule =
  | 'protocol-imports-nothing-of-ours'
  | 'packages-meet-only-through-protocol'
  | 'server-sql-only-in-store'
  | 'server-domain-without-transport'
  | 'agent-stays-light';

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly rule: Rule;
}

// Domain folders of the server: plain logic behind small interfaces, reachable from api/, gateway/ and jobs.ts.
const SERVER_DOMAIN_FOLDERS = ['rollouts', 'policies', 'vulns', 'auth', 'audit', 'discovery', 'store'];
// Prefix match on purpose: `pg` also covers pg-copy-streams, pg-cursor and friends, all of which are SQL access.
const DATABASE_MODULES = ['drizzle-orm', 'pg', '@electric-sql/pglite'];
const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts'];

function startsWithAny(specifier: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => specifier.startsWith(prefix));
}

function isDatabaseModule(specifier: string): boolean {
  return startsWithAny(specifier, DATABASE_MODULES);
}

/** fastify itself, its plugins (`@fastify/*`, `fastify-plugin`) and ws: the transport layer. */
function isTransportModule(specifier: string): boolean {
  return specifier.startsWith('fastify') || specifier.startsWith('@fastify/') || specifier === 'ws' || specifier.startsWith('ws/');
}

function lineOf(text: string, position: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * Every module specifier a file imports: static imports and re-exports (type-only ones too, since a type
 * import still ties the modules together), side-effect imports, `import('x')` and `require('x')` with
 * literal arguments. TypeScript's own pre-processor does the scanning, so comments and strings that merely
 * look like imports are not counted.
 */
export function extractImports(text: string): ImportRef[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((ref) => ({ specifier: ref.fileName, line: lineOf(text, ref.pos) }));
}

interface Location {
  /** Workspace package the file belongs to (`server`), or null outside packages/. */
  readonly pkg: string | null;
  /** Path inside the package's src/, e.g. `store/hosts.ts`, or null outside a src/ folder. */
  readonly inSrc: string | null;
}

function locate(path: string): Location {
  const match = /^packages\/([^/]+)\/(?:src\/(.*))?/.exec(path);
  if (!match) return { pkg: null, inSrc: null };
  return { pkg: match[1] ?? null, inSrc: match[2] ?? null };
}

function isTestFile(path: string): boolean {
  return /\.test\.[cm]?tsx?$/.test(path) || path.includes('/__fixtures__/');
}

function checkFile(file: SourceFile): Violation[] {
  const violations: Violation[] = [];
  const here = locate(file.path);
  if (here.pkg === null) return violations;
  const pkg = here.pkg;
  const inSrc = here.inSrc ?? '';
  const report = (ref: ImportRef, rule: Rule): void => {
    violations.push({ file: file.path, line: ref.line, specifier: ref.specifier, rule });
  };

  for (const ref of extractImports(file.text)) {
    const spec = ref.specifier;

    if (spec.startsWith('.')) {
      const target = posix.normalize(posix.join(posix.dirname(file.path), spec));
      const there = locate(target);
      if (there.pkg === pkg) continue;
      // Package tests may use the shared harness (PostgreSQL, fixtures) in the root test/support/.
      if (isTestFile(file.path) && target.startsWith('test/support/')) continue;
      report(ref, pkg === 'protocol' ? 'protocol-imports-nothing-of-ours' : 'packages-meet-only-through-protocol');
      continue;
    }

    if (spec === '@brier' || spec.startsWith('@brier/')) {
      const target = spec.split('/')[1] ?? '';
      if (pkg === 'protocol') report(ref, 'protocol-imports-nothing-of-ours');
      else if (pkg === 'agent' && target === 'server') report(ref, 'agent-stays-light');
      // A package importing itself by name would go through dist/; inside a package, paths are relative.
      else if (target !== 'protocol') report(ref, 'packages-meet-only-through-protocol');
      continue;
    }

    if (pkg === 'server') {
      if (isDatabaseModule(spec) && !inSrc.startsWith('store/')) report(ref, 'server-sql-only-in-store');
      const folder = inSrc.split('/')[0] ?? '';
      if (inSrc.includes('/') && SERVER_DOMAIN_FOLDERS.includes(folder) && isTransportModule(spec)) {
        report(ref, 'server-domain-without-transport');
      }
    }

    if (pkg === 'agent' && (isDatabaseModule(spec) || spec.startsWith('fastify') || spec.startsWith('@fastify/'))) {
      report(ref, 'agent-stays-light');
    }
  }
  return violations;
}

/** All rule violations in the given files, in file order. Files outside packages/ are ignored. */
export function checkArchitecture(files: readonly SourceFile[]): Violation[] {
  return files.flatMap(checkFile);
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line} imports '${v.specifier}' (${v.rule})`;
}

async function walk(dir: string, out: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, out);
    else if (entry.isFile() && SOURCE_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) out.push(full);
  }
}

/** Reads every TypeScript file under packages/<name>/src of the repository at `root`. */
export async function readPackageSources(root: string): Promise<SourceFile[]> {
  const packagesDir = join(root, 'packages');
  const paths: string[] = [];
  for (const entry of await readdir(packagesDir, { withFileTypes: true })) {
    if (entry.isDirectory()) await walk(join(packagesDir, entry.name, 'src'), paths);
  }
  paths.sort();
  return Promise.all(paths.map(async (full) => ({ path: relative(root, full).split(sep).join('/'), text: await readFile(full, 'utf8') })));
}
