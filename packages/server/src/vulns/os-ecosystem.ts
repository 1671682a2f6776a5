import { schemeForOsvEcosystem, type VersionScheme } from '@brier/protocol';

/**
 * Which OSV ecosystem a host's packages belong to, from its reported OS: `Debian:12`,
 * `Ubuntu:22.04`, `Alpine:v3.19`, `Rocky Linux:9`... Feeds name ecosystems this way (OSV's
 * `affected[].package.ecosystem`), so a record for `Debian:11` never matches a Debian 12 host.
 * Undefined when Brier does not know the OS: such a host gets no findings rather than wrong ones.
 */
export interface HostOs {
  distro: string;
  release: string;
  codename?: string | null | undefined;
}

const DEBIAN_CODENAMES: Record<string, string> = {
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
};

/** The RPM distributions whose OSV ecosystem is "Name:major". */
const RPM_DISTROS: [RegExp, string][] = [
  [/^rocky/i, 'Rocky Linux'],
  [/^alma/i, 'AlmaLinux'],
  [/^red ?hat|^rhel/i, 'Red Hat'],
  [/^opensuse/i, 'openSUSE'],
  [/^(sles|suse)/i, 'SUSE'],
];

export function hostEcosystem(os: HostOs): string | undefined {
  const distro = os.distro.trim();
  const release = os.release.trim();
  if (/^debian/i.test(distro)) {
    const major = /^(\d+)/.exec(release)?.[1] ?? DEBIAN_CODENAMES[(os.codename ?? '').toLowerCase()];
    return major === undefined ? undefined : `Debian:${major}`;
  }
  if (/^ubuntu/i.test(distro)) {
    const version = /^(\d+\.\d+)/.exec(release)?.[1];
    return version === undefined ? undefined : `Ubuntu:${version}`;
  }
  if (/^alpine/i.test(distro)) {
    const version = /^(\d+\.\d+)/.exec(release)?.[1];
    return version === undefined ? undefined : `Alpine:v${version}`;
  }
  for (const [pattern, name] of RPM_DISTROS) {
    if (!pattern.test(distro)) continue;
    const major = /^(\d+(?:\.\d+)?)/.exec(release)?.[1];
    if (major === undefined) return undefined;
    return name === 'openSUSE' || name === 'SUSE' ? `${name}:${major}` : `${name}:${major.split('.')[0]}`;
  }
  return undefined;
}

/** `Debian:12` → `Debian`; the part before the first colon. */
export function ecosystemFamily(ecosystem: string): string {
  const colon = ecosystem.indexOf(':');
  return colon < 0 ? ecosystem : ecosystem.slice(0, colon);
}

/**
 * Whether a feed's ecosystem applies to a host's. A bare family (`Debian`) applies to every release
 * of it; `Ubuntu:22.04:LTS` and `Ubuntu:Pro:22.04:LTS` apply to `Ubuntu:22.04`; otherwise exact.
 */
export function ecosystemApplies(feed: string, host: string): boolean {
  if (feed === host) return true;
  const family = ecosystemFamily(feed);
  if (family !== ecosystemFamily(host)) return false;
  if (feed === family) return true;
  if (family === 'Ubuntu') {
    const hostVersion = host.split(':')[1];
    const parts = feed.split(':').slice(1);
    return parts.filter((p) => p !== 'Pro' && p !== 'LTS' && p !== 'FIPS').join(':') === hostVersion;
  }
  return false;
}

/** The version ordering of a host ecosystem (dpkg for Debian and Ubuntu, ...). */
export function schemeOf(ecosystem: string): VersionScheme | undefined {
  return schemeForOsvEcosystem(ecosystem);
}
