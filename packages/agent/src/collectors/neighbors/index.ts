import type { CommandRunner } from '../../run-command.js';
import { collectDarwinNeighbors } from './arp.darwin.js';
import { collectLinuxNeighbors } from './ip-neigh.linux.js';
import { NeighborsError } from './neighbors-error.js';
import { collectWindowsNeighbors } from './net-neighbor.windows.js';
import { type NormalizedNeighbors, normalizeNeighbors } from './normalize-neighbors.js';

export { NeighborsError, type NeighborsErrorCode } from './neighbors-error.js';
export type { RawNeighbor } from './normalize-neighbors.js';

export interface NeighborsDeps {
  run: CommandRunner;
  readFile: (path: string) => Promise<string>;
  platform: NodeJS.Platform;
}

/** Which table was read: `ip -j neigh`, /proc/net/arp, Get-NetNeighbor, or macOS arp and ndp. */
export type NeighborsSource = 'ip' | 'proc' | 'get-netneighbor' | 'arp-ndp';

export interface NeighborsResult extends NormalizedNeighbors {
  source: NeighborsSource;
}

/**
 * The host's neighbour tables (ARP and NDP): the MAC/IP pairs it has talked to on its links, from
 * which the server finds devices no agent manages. Reads only, never probes the network. Rejects
 * with NeighborsError when no table can be read on this platform.
 */
export async function collectNeighbors(deps: NeighborsDeps): Promise<NeighborsResult> {
  switch (deps.platform) {
    case 'linux': {
      const { entries, source } = await collectLinuxNeighbors(deps);
      return { ...normalizeNeighbors(entries), source };
    }
    case 'win32':
      try {
        return { ...normalizeNeighbors(await collectWindowsNeighbors(deps.run)), source: 'get-netneighbor' };
      } catch (err) {
        if (err instanceof NeighborsError) throw err;
        throw new NeighborsError('unavailable', 'Get-NetNeighbor could not be run', { cause: err });
      }
    case 'darwin':
      return { ...normalizeNeighbors(await collectDarwinNeighbors(deps.run)), source: 'arp-ndp' };
    default:
      throw new NeighborsError('unsupported_platform', `neighbour tables are not read on ${deps.platform}`);
  }
}
