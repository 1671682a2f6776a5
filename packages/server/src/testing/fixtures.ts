import type { HostFacts, PackageEntry } from '@brier/protocol';

/** Test support: the facts of a Debian 12 host with nothing else reported. */
export function debianFacts(hostname: string): HostFacts {
  return {
    hostname,
    os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', codename: 'bookworm' },
    hardware: {},
    network: [],
    agentVersion: '0.1.0',
  };
}

/** Test support: an installed dpkg package, built from `source` at the same version. */
export const dpkgPackage = (name: string, version: string, source = name): PackageEntry => ({
  ecosystem: 'dpkg',
  name,
  version,
  arch: 'amd64',
  source,
  sourceVersion: version,
});
