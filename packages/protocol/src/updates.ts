import Type from 'typebox';
import { Ecosystem, IdentText, SafeText } from './inventory.js';

/**
 * The tool that reported an update and that an executor must use to apply it. Several managers can
 * share one ecosystem (winget and Windows Update are both `windows`), and their names live in
 * different namespaces, so the manager is part of an update's identity.
 */
export const UPDATE_MANAGERS = ['apt', 'dnf', 'zypper', 'apk', 'windows-update', 'winget', 'softwareupdate'] as const;
export const UpdateManager = Type.Union([
  Type.Literal('apt'),
  Type.Literal('dnf'),
  Type.Literal('zypper'),
  Type.Literal('apk'),
  Type.Literal('windows-update'),
  Type.Literal('winget'),
  Type.Literal('softwareupdate'),
]);
export type UpdateManager = (typeof UPDATE_MANAGERS)[number];

/**
 * `package`: `name` is an installed package of the manager (matchable against the inventory by
 * ecosystem, name and arch) and `candidateVersion` replaces `installedVersion`.
 * `patch`: `name` is an update unit the manager installs as a whole and that is not itself an
 * installed package: a SUSE patch, a Windows Update (KB), a macOS softwareupdate label.
 */
export const UpdateKind = Type.Union([Type.Literal('package'), Type.Literal('patch')]);
export type UpdateKind = Type.Static<typeof UpdateKind>;

/** Advisory ids per update. SUSE kernel patches reference a few hundred CVEs; beyond this the list is cut. */
export const MAX_ADVISORIES_PER_UPDATE = 256;
/** The most pending updates one report may hold; collectors cut the list there, security ones kept first. */
export const MAX_PENDING_UPDATES = 20_000;

/**
 * One update the host could install. Identity on a host is (manager, name, arch); the patch
 * catalogue groups by (ecosystem, name, candidateVersion). Versions are in the ecosystem's own
 * syntax so the server can order them with the ecosystem's rules.
 */
export const PendingUpdate = Type.Object(
  {
    ecosystem: Ecosystem,
    manager: UpdateManager,
    kind: UpdateKind,
    name: IdentText(256, 1),
    /** Empty where the tool does not say (apk, winget, Windows Update, softwareupdate). */
    arch: IdentText(64),
    /** Absent where the tool does not say (Windows Update, softwareupdate, winget's "Unknown", rpm install-only packages). */
    installedVersion: Type.Optional(IdentText(256, 1)),
    candidateVersion: IdentText(256, 1),
    /** Where the candidate comes from: apt's Release Label, the dnf/zypper repository, winget's source. */
    origin: Type.Optional(SafeText(256)),
    /** apt's Release Suite (archive), e.g. `bookworm-security` or `oldstable-security`. */
    suite: Type.Optional(SafeText(128)),
    /** Human title where the tool has one that differs from `name` (winget's Name, Windows Update's Title). */
    title: Type.Optional(SafeText(512)),
    /** True when the tool marks the update as a security fix; false means "not marked", not "proven harmless". */
    security: Type.Boolean(),
    /** Advisory ids: DSA/RHSA/FEDORA/SUSE-SU/patch names, CVE ids, KB numbers. */
    advisories: Type.Optional(Type.Array(IdentText(128, 1), { maxItems: MAX_ADVISORIES_PER_UPDATE })),
    /** The tool says applying it restarts the machine (Windows Update, softwareupdate, SUSE patches). */
    rebootLikely: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type PendingUpdate = Type.Static<typeof PendingUpdate>;

/**
 * A full list of the host's pending updates, replacing the previous one for the managers in
 * `sources` (a manager not listed was not present, so its old entries are stale). `collectedAt` is
 * the agent's clock in UTC, ISO 8601 with a `Z`.
 * Note: 20,000 updates do not fit into one 1 MiB frame; the message that carries this body must be
 * split into parts or go over HTTP.
 */
export const PendingUpdates = Type.Object(
  {
    updates: Type.Array(PendingUpdate, { maxItems: MAX_PENDING_UPDATES }),
    sources: Type.Array(UpdateManager, { maxItems: UPDATE_MANAGERS.length, uniqueItems: true }),
    collectedAt: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$', maxLength: 40 }),
  },
  { additionalProperties: false },
);
export type PendingUpdates = Type.Static<typeof PendingUpdates>;

/** What identifies a pending update on one host. TAB cannot occur in the fields (IdentText). */
export function pendingUpdateKey(u: Pick<PendingUpdate, 'manager' | 'name' | 'arch'>): string {
  return `${u.manager}\t${u.name}\t${u.arch}`;
}

/** The manager's ecosystem, for version ordering and for matching against the inventory. */
export const MANAGER_ECOSYSTEM: Readonly<Record<UpdateManager, Ecosystem>> = Object.freeze({
  apt: 'dpkg',
  dnf: 'rpm',
  zypper: 'rpm',
  apk: 'apk',
  'windows-update': 'windows',
  winget: 'windows',
  softwareupdate: 'macos',
});
