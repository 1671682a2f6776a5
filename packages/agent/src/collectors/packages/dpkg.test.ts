/**
 * `__fixtures__/dpkg-admindir/status` is a hand-written dpkg status database in the real stanza
 * format; `__fixtures__/dpkg-query.txt` is what the real dpkg-query 1.21.22 printed for it with
 * DPKG_QUERY_FORMAT. The first test also reads this machine's own dpkg database.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../run-command.js';
import { collectDpkg, DPKG_QUERY_FORMAT, parseDpkgQuery } from './dpkg.js';

const fixtures = new URL('./__fixtures__/', import.meta.url);
// Off Debian-family machines there is no dpkg to compare with; CI runs on Debian and must not skip.
const hasDpkg = (() => {
  if (process.env.CI === 'true') return true;
  try {
    execFileSync('dpkg-query', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('collectDpkg', () => {
  it.runIf(hasDpkg)('returns exactly the packages this machine has installed', async () => {
    // Computed independently: a different format, split on spaces, status taken from its own column.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax.
    const listing = execFileSync('dpkg-query', ['-W', '-f', '${db:Status-Abbrev} ${Package} ${Version} ${Architecture}\n'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const expected = new Set<string>();
    for (const line of listing.split('\n')) {
      const status = line.slice(0, 3);
      const [name, version, arch] = line.slice(4).split(' ');
      if (status[1] === 'i') expected.add(`${name} ${version} ${arch}`);
    }
    expect(expected.size).toBeGreaterThan(10);

    const packages = await collectDpkg(runCommand);
    const actual = new Set(packages.map((p) => `${p.name} ${p.version} ${p.arch}`));
    expect(packages).toHaveLength(actual.size);
    expect(actual).toEqual(expected);
    for (const p of packages) {
      expect(p.ecosystem).toBe('dpkg');
      expect(p.source).not.toBe('');
      expect(p.sourceVersion).not.toBe('');
    }
  });

  it.runIf(hasDpkg)('reads another database through admindir, keeping only configured packages', async () => {
    const packages = await collectDpkg(runCommand, { admindir: new URL('dpkg-admindir', fixtures).pathname });
    expect(packages.map((p) => `${p.name}:${p.arch}`).sort()).toEqual([
      'adduser:all',
      'golang-github-example-dev:amd64',
      'libc6:amd64',
      'libc6:i386',
      'libssl3:amd64',
      'man-db:amd64',
    ]);
  });

  it('rejects with ENOENT when dpkg-query is not installed', async () => {
    const missing = () => Promise.reject(Object.assign(new Error('spawn dpkg-query ENOENT'), { code: 'ENOENT' }));
    await expect(collectDpkg(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('turns a non-zero exit into an error quoting stderr', async () => {
    const failing = async () => ({ stdout: '', stderr: 'dpkg-query: error: parsing file /var/lib/dpkg/status', code: 2 });
    await expect(collectDpkg(failing)).rejects.toThrow(/exited with code 2: dpkg-query: error: parsing/);
  });

  it('passes the format and admindir as single arguments, never through a shell', async () => {
    const calls: (readonly string[])[] = [];
    await collectDpkg(
      async (_cmd, args) => {
        calls.push(args);
        return { stdout: '', stderr: '', code: 0 };
      },
      { admindir: '/tmp/x y' },
    );
    expect(calls).toEqual([['--admindir=/tmp/x y', '-W', `--showformat=${DPKG_QUERY_FORMAT}`]]);
  });
});

describe('parseDpkgQuery', () => {
  const recorded = readFileSync(new URL('dpkg-query.txt', fixtures), 'utf8');

  it('keeps installed, held and triggers-pending packages and drops config-files, half-installed and unpacked ones', () => {
    const names = parseDpkgQuery(recorded).map((p) => p.name);
    expect(names).toEqual(['adduser', 'golang-github-example-dev', 'libc6', 'libc6', 'libssl3', 'man-db']);
  });

  it('always sets the source package, even when it equals the binary', () => {
    const packages = parseDpkgQuery(recorded);
    expect(packages.find((p) => p.name === 'adduser')).toEqual({
      ecosystem: 'dpkg',
      name: 'adduser',
      version: '3.134',
      arch: 'all',
      source: 'adduser',
      sourceVersion: '3.134',
    });
    expect(packages.find((p) => p.name === 'golang-github-example-dev')).toMatchObject({
      version: '1.4.2-1+b3',
      source: 'golang-github-example',
      sourceVersion: '1.4.2-1',
    });
    expect(packages.filter((p) => p.name === 'libc6').map((p) => [p.arch, p.source])).toEqual([
      ['amd64', 'glibc'],
      ['i386', 'glibc'],
    ]);
  });

  it('skips lines that do not have exactly six fields', () => {
    const text = 'short\tline\n\nok\t1\tall\tok\t1\tii \ntoo\tmany\tfields\there\tx\ty\tii \n';
    expect(parseDpkgQuery(text).map((p) => p.name)).toEqual(['ok']);
  });

  it('returns nothing for empty output', () => {
    expect(parseDpkgQuery('')).toEqual([]);
  });
});
