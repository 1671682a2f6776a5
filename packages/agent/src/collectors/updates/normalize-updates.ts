import {
  compileSchema,
  MANAGER_ECOSYSTEM,
  MAX_ADVISORIES_PER_UPDATE,
  MAX_PENDING_UPDATES,
  PendingUpdate,
  pendingUpdateKey,
  type UpdateKind,
  type UpdateManager,
} from '@brier/protocol';
import { cleanText, optionalText } from '../clean-text.js';

const checkUpdate = compileSchema(PendingUpdate);

/**
 * What a parser read from a tool, shaped like a PendingUpdate but not yet checked: it may hold
 * control characters or over-long text until `normalizeUpdate` has seen it. The ecosystem is not
 * here: it follows from the manager.
 */
export interface RawUpdate {
  manager: UpdateManager;
  kind: UpdateKind;
  name: string;
  arch: string;
  installedVersion?: string | undefined;
  candidateVersion: string;
  origin?: string | undefined;
  suite?: string | undefined;
  title?: string | undefined;
  security: boolean;
  advisories?: readonly string[] | undefined;
  rebootLikely?: boolean | undefined;
}

export interface NormalizedUpdates {
  /** Valid for the protocol schema, unique by (manager, name, arch), security ones first when cut. */
  updates: PendingUpdate[];
  /** Entries that could not be made valid (empty or over-long name, arch or candidate version). */
  invalid: number;
  /** Entries dropped because an earlier one had the same (manager, name, arch). */
  duplicates: number;
  /** Valid entries left out because the list exceeded MAX_PENDING_UPDATES. */
  dropped: number;
}

/** Identity text: cleaned, and refused (undefined) when empty or too long, since a cut name is another package. */
function ident(value: string, maxLength: number, allowEmpty = false): string | undefined {
  const clean = cleanText(value);
  if ((clean === '' && !allowEmpty) || clean.length > maxLength) return undefined;
  return clean;
}

/**
 * Advisory ids: cleaned, deduplicated in order, ids that are empty or longer than 128 skipped (no
 * real id is), and the list cut at MAX_ADVISORIES_PER_UPDATE: it is descriptive, so a partial list
 * is better than refusing the update.
 */
function advisoryList(raw: readonly string[] | undefined): string[] | undefined {
  if (!raw) return undefined;
  const seen = new Set<string>();
  for (const value of raw) {
    const id = cleanText(value);
    if (id === '' || id.length > 128) continue;
    seen.add(id);
    if (seen.size === MAX_ADVISORIES_PER_UPDATE) break;
  }
  return seen.size ? [...seen] : undefined;
}

/**
 * Makes one parsed entry safe for the wire and the database, or returns undefined. Identifying fields
 * (name, arch, candidate version) that are too long are refused; an unusable installed version is
 * omitted (the update still stands without it); descriptive text is clipped.
 */
export function normalizeUpdate(raw: RawUpdate): PendingUpdate | undefined {
  const name = ident(raw.name, 256);
  const arch = ident(raw.arch, 64, true);
  const candidateVersion = ident(raw.candidateVersion, 256);
  if (name === undefined || arch === undefined || candidateVersion === undefined) return undefined;
  const entry: PendingUpdate = {
    ecosystem: MANAGER_ECOSYSTEM[raw.manager],
    manager: raw.manager,
    kind: raw.kind,
    name,
    arch,
    candidateVersion,
    security: raw.security,
  };
  const installedVersion = raw.installedVersion === undefined ? undefined : ident(raw.installedVersion, 256);
  if (installedVersion !== undefined) entry.installedVersion = installedVersion;
  const origin = optionalText(raw.origin, 256);
  if (origin !== undefined) entry.origin = origin;
  const suite = optionalText(raw.suite, 128);
  if (suite !== undefined) entry.suite = suite;
  const title = optionalText(raw.title, 512);
  if (title !== undefined && title !== name) entry.title = title;
  const advisories = advisoryList(raw.advisories);
  if (advisories) entry.advisories = advisories;
  if (raw.rebootLikely !== undefined) entry.rebootLikely = raw.rebootLikely;
  try {
    // Last guard: whatever the rules above miss, the protocol schema decides.
    return checkUpdate(entry, 'pending update');
  } catch {
    return undefined;
  }
}

/**
 * Normalises every entry and keeps the first of each (manager, name, arch). Past MAX_PENDING_UPDATES
 * the list is cut, security updates kept first (stable within each group), since those are the ones
 * an operator must not miss.
 */
export function normalizeUpdates(raw: readonly RawUpdate[]): NormalizedUpdates {
  const byKey = new Map<string, PendingUpdate>();
  let invalid = 0;
  let duplicates = 0;
  for (const r of raw) {
    const entry = normalizeUpdate(r);
    if (!entry) {
      invalid++;
      continue;
    }
    const key = pendingUpdateKey(entry);
    if (byKey.has(key)) duplicates++;
    else byKey.set(key, entry);
  }
  let updates = [...byKey.values()];
  let dropped = 0;
  if (updates.length > MAX_PENDING_UPDATES) {
    updates = [...updates.filter((u) => u.security), ...updates.filter((u) => !u.security)];
    dropped = updates.length - MAX_PENDING_UPDATES;
    updates = updates.slice(0, MAX_PENDING_UPDATES);
  }
  return { updates, invalid, duplicates, dropped };
}
