import type { RawPackage } from '../normalize-packages.js';

export const APK_INSTALLED_PATH = '/lib/apk/db/installed';

function entryOf(fields: Map<string, string>): RawPackage | undefined {
  const name = fields.get('P');
  const version = fields.get('V');
  if (name === undefined || version === undefined) return undefined;
  const entry: RawPackage = { ecosystem: 'apk', name, version, arch: fields.get('A') ?? '' };
  const origin = fields.get('o');
  // Every subpackage of an APKBUILD shares its pkgver-pkgrel, so the origin's version is V.
  if (origin !== undefined) {
    entry.source = origin;
    entry.sourceVersion = version;
  }
  return entry;
}

/**
 * Parses apk's installed database: one stanza per package, `X:value` lines, stanzas separated by a
 * blank line. Only the first P/V/A/o of a stanza is used; file lines (F/R/Z/a...) are ignored.
 */
export function parseApkInstalled(text: string): RawPackage[] {
  const entries: RawPackage[] = [];
  let fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') {
      const entry = entryOf(fields);
      if (entry) entries.push(entry);
      fields = new Map();
      continue;
    }
    const key = line[0];
    if (line[1] === ':' && (key === 'P' || key === 'V' || key === 'A' || key === 'o') && !fields.has(key)) fields.set(key, line.slice(2));
  }
  const last = entryOf(fields);
  if (last) entries.push(last);
  return entries;
}

/** Installed apk packages, read straight from the database (no command). Rejects with ENOENT where there is no apk. */
export async function collectApk(readFile: (path: string) => Promise<string>, path = APK_INSTALLED_PATH): Promise<RawPackage[]> {
  return parseApkInstalled(await readFile(path));
}
