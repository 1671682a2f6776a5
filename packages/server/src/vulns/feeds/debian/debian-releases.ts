/**
 * Debian codenames as the Security Tracker names releases, to the version in OSV's `Debian:<n>`
 * ecosystem. Point releases from etch on are plain majors (`Debian:12`), the same number a host
 * reports in os-release `VERSION_ID`; the dotted versions before that are kept as released.
 *
 * `sid` (unstable) has no number and never will: it maps to `Debian:unstable`, a name no OSV
 * record uses, so tracker data for sid is kept but only matches a host that Brier explicitly
 * places in `Debian:unstable`. `experimental` is not a release and is not listed.
 */
export const DEBIAN_RELEASES: Readonly<Record<string, string>> = Object.freeze({
  buzz: '1.1',
  rex: '1.2',
  bo: '1.3',
  hamm: '2.0',
  slink: '2.1',
  potato: '2.2',
  woody: '3.0',
  sarge: '3.1',
  etch: '4',
  lenny: '5',
  squeeze: '6',
  wheezy: '7',
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
  duke: '15',
  sid: 'unstable',
});

/** `bookworm` → `Debian:12`, `sid` → `Debian:unstable`; undefined for a codename Brier does not know. */
export function debianEcosystem(codename: string): string | undefined {
  const version = Object.hasOwn(DEBIAN_RELEASES, codename) ? DEBIAN_RELEASES[codename] : undefined;
  return version === undefined ? undefined : `Debian:${version}`;
}
