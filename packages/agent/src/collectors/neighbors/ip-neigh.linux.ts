import { type CommandRunner, stdoutOf } from '../../run-command.js';
import { NeighborsError } from './neighbors-error.js';
import type { RawNeighbor } from './normalize-neighbors.js';

/** `ip -j neigh show`: IPv4 (ARP) and IPv6 (NDP) entries, without NOARP ones, as JSON (iproute2 >= 4.14). */
export const IP_NEIGH_ARGS = ['-j', 'neigh', 'show'] as const;
export const PROC_NET_ARP = '/proc/net/arp';

/** /proc/net/arp flags (include/uapi/linux/if_arp.h): resolved, and set by an administrator. */
const ATF_COM = 0x02;
const ATF_PERM = 0x04;

// C0 controls (but TAB, LF, CR) and DEL. iproute2 prints an interface name as it is, and Linux allows
// control characters in one, so a hostile name would make the whole output invalid JSON; they go.
// A predicate rather than a regex: the linter rightly flags control characters in regexes.
function stripControls(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) {
      out += text.slice(from, i);
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * Parses `ip -j neigh show`. Entries without a link-layer address (FAILED, INCOMPLETE) come back
 * with an empty MAC and their state, for the normaliser to skip; `state` is a list (`["STALE"]`,
 * sometimes with flags) of which the first NUD state counts. Throws NeighborsError `malformed`
 * when the output is not a JSON array.
 */
export function parseIpNeighJson(output: string): RawNeighbor[] {
  const json = stripControls(output).trim();
  if (json === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new NeighborsError('malformed', 'ip -j neigh printed something that is not JSON', { cause: err });
  }
  if (!Array.isArray(parsed)) throw new NeighborsError('malformed', 'ip -j neigh printed JSON that is not a list');
  const entries: RawNeighbor[] = [];
  for (const item of parsed) {
    if (item === null || typeof item !== 'object') continue;
    const e = item as Record<string, unknown>;
    const states = Array.isArray(e.state) ? e.state.map(text) : [text(e.state)];
    entries.push({ ip: text(e.dst), mac: text(e.lladdr), interface: text(e.dev), state: states[0] || 'NONE' });
  }
  return entries;
}

/**
 * Parses /proc/net/arp (IPv4 only; whitespace-separated columns under one header line). The file
 * keeps the last MAC of an entry that has since failed, so only entries flagged complete count:
 * PERMANENT when an administrator set them, otherwise no state (the file does not say how fresh).
 */
export function parseProcNetArp(content: string): RawNeighbor[] {
  const entries: RawNeighbor[] = [];
  const lines = content.split('\n');
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const [ip = '', , flagText = '', mac = ''] = fields;
    const flags = Number.parseInt(flagText, 16);
    const complete = Number.isInteger(flags) && (flags & (ATF_COM | ATF_PERM)) !== 0;
    entries.push({
      ip,
      mac,
      // The device is the last column; a name cannot hold whitespace, so nothing else follows it.
      interface: fields[fields.length - 1] ?? '',
      state: !complete ? 'INCOMPLETE' : (flags & ATF_PERM) !== 0 ? 'PERMANENT' : undefined,
    });
  }
  return entries;
}

export interface LinuxNeighborsDeps {
  run: CommandRunner;
  readFile: (path: string) => Promise<string>;
}

/**
 * The kernel's neighbour tables through `ip -j neigh show`. Without iproute2, or with one too old
 * for `-j` (it prints `Option "-j" is unknown` and exits 255; busybox's `ip` refuses it too), or
 * when its output is not JSON, falls back to /proc/net/arp, which has IPv4 only. Rejects with
 * NeighborsError `unavailable` when neither can be read.
 */
export async function collectLinuxNeighbors(deps: LinuxNeighborsDeps): Promise<{ entries: RawNeighbor[]; source: 'ip' | 'proc' }> {
  let ipFailure: unknown;
  try {
    const result = await deps.run('ip', IP_NEIGH_ARGS, { timeoutMs: 30_000, maxOutputBytes: 32 * 1024 * 1024 });
    // An `ip` that ignores -j and prints text exits 0 too: its output is then refused as malformed.
    return { entries: parseIpNeighJson(stdoutOf('ip', result)), source: 'ip' };
  } catch (err) {
    ipFailure = err;
  }
  let content: string;
  try {
    content = await deps.readFile(PROC_NET_ARP);
  } catch (err) {
    throw new NeighborsError('unavailable', 'neither `ip -j neigh` nor /proc/net/arp could be read', {
      cause: new AggregateError([ipFailure, err], 'both sources failed'),
    });
  }
  return { entries: parseProcNetArp(content), source: 'proc' };
}
