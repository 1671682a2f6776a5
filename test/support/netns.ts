// Throwaway network namespaces for the quarantine tests: they need root, `ip` and `nft`. Everything
// created here carries a random id and is removed by `remove()`; the nft tables live inside the
// namespaces and die with them. The host's own network configuration is never changed, apart from
// one end of a veth pair in the root namespace, which disappears when its namespace is deleted.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { CommandResult } from '../../packages/agent/src/run-command.js';
import { type CommandRunner, runCommand } from '../../packages/agent/src/run-command.js';

const exec = promisify(execFile);

function hasTool(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why network-namespace tests cannot run here, or null when they can. Like PostgreSQL: a skip
 * with this reason outside CI, a failure under CI=true (see `failInCi`).
 */
export function netnsSkipReason(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces and nftables need root';
  if (!hasTool('ip', ['-V'])) return '`ip` (iproute2) is not installed';
  if (!hasTool('nft', ['--version'])) return '`nft` is not installed (apt-get install nftables)';
  return null;
}

/** Whether the suite should run: always under CI=true (where a missing prerequisite must fail, not skip). */
export function netnsRuns(): boolean {
  return netnsSkipReason() === null || process.env.CI === 'true';
}

/** Throws under CI=true when the prerequisites are missing; call it first in beforeAll. */
export function failInCi(): void {
  const reason = netnsSkipReason();
  if (reason !== null) throw new Error(`CI=true but ${reason}`);
}

/** A short random id: namespace and interface names must stay within 15 characters. */
export function shortId(): string {
  return randomBytes(3).toString('hex');
}

export async function ip(...args: string[]): Promise<string> {
  return (await exec('ip', args, { timeout: 15_000 })).stdout;
}

/** Runs a command inside a namespace (argument array, no shell); a non-zero exit is in `code`. */
export function inNamespace(ns: string): CommandRunner {
  return (cmd, args, opts) => runCommand('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

export async function execIn(ns: string, cmd: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return inNamespace(ns)(cmd, args, { timeoutMs: 20_000, ...(input !== undefined ? { input } : {}) });
}

/** One empty namespace with loopback up. */
export async function createNamespace(name = `brq-${shortId()}`): Promise<{ name: string; remove: () => Promise<void> }> {
  await ip('netns', 'add', name);
  await ip('-n', name, 'link', 'set', 'lo', 'up');
  return {
    name,
    remove: async () => {
      await ip('netns', 'del', name).catch(() => undefined);
    },
  };
}

/**
 *   root namespace (Brier server)  10.213.X.1 ──veth── 10.213.X.2  host namespace (the agent)
 *   other namespace (a listener)   10.214.X.1 ──veth── 10.214.X.2  host namespace
 * X is random and checked against the root namespace's addresses.
 */
export interface QuarantineTopology {
  id: string;
  hostNs: string;
  otherNs: string;
  /** The root namespace's end of the server link: the Brier server listens here. */
  serverIp: string;
  hostIp: string;
  otherIp: string;
  remove(): Promise<void>;
}

export async function createQuarantineTopology(): Promise<QuarantineTopology> {
  const used = await ip('-o', '-4', 'addr', 'show');
  let x = 0;
  for (let tries = 0; tries < 50; tries++) {
    const candidate = 16 + ((randomBytes(1)[0] ?? 0) % 224);
    if (!used.includes(`10.213.${candidate}.`) && !used.includes(`10.214.${candidate}.`)) {
      x = candidate;
      break;
    }
  }
  if (x === 0) throw new Error('no free 10.213.X.0/24 subnet for the test');
  const id = shortId();
  const hostNs = `brq-${id}-h`;
  const otherNs = `brq-${id}-o`;
  const rootIf = `bq${id}r`;
  const topology: QuarantineTopology = {
    id,
    hostNs,
    otherNs,
    serverIp: `10.213.${x}.1`,
    hostIp: `10.213.${x}.2`,
    otherIp: `10.214.${x}.1`,
    async remove() {
      // Deleting a namespace destroys its veth ends and with them their peers (and the nft tables inside).
      await ip('netns', 'del', hostNs).catch(() => undefined);
      await ip('netns', 'del', otherNs).catch(() => undefined);
      await ip('link', 'del', rootIf).catch(() => undefined);
    },
  };
  try {
    await ip('netns', 'add', hostNs);
    await ip('netns', 'add', otherNs);
    await ip('-n', hostNs, 'link', 'set', 'lo', 'up');
    await ip('-n', otherNs, 'link', 'set', 'lo', 'up');
    await ip('link', 'add', rootIf, 'type', 'veth', 'peer', 'name', `bq${id}h`, 'netns', hostNs);
    await ip('addr', 'add', `${topology.serverIp}/24`, 'dev', rootIf);
    await ip('link', 'set', rootIf, 'up');
    await ip('-n', hostNs, 'addr', 'add', `${topology.hostIp}/24`, 'dev', `bq${id}h`);
    await ip('-n', hostNs, 'link', 'set', `bq${id}h`, 'up');
    await ip('-n', hostNs, 'link', 'add', `bq${id}p`, 'type', 'veth', 'peer', 'name', `bq${id}o`, 'netns', otherNs);
    await ip('-n', otherNs, 'addr', 'add', `${topology.otherIp}/24`, 'dev', `bq${id}o`);
    await ip('-n', otherNs, 'link', 'set', `bq${id}o`, 'up');
    await ip('-n', hostNs, 'addr', 'add', `10.214.${x}.2/24`, 'dev', `bq${id}p`);
    await ip('-n', hostNs, 'link', 'set', `bq${id}p`, 'up');
  } catch (err) {
    await topology.remove();
    throw err;
  }
  return topology;
}

/**
 * Whether a TCP connection from inside `ns` to address:port completes within `timeoutMs`. A dropped
 * SYN shows up as a timeout, a closed port as a refusal; both are "no".
 */
export async function canConnect(ns: string, address: string, port: number, timeoutMs = 1_500): Promise<boolean> {
  const script =
    "const s=require('net').connect({host:process.argv[1],port:Number(process.argv[2])});" +
    "const t=setTimeout(()=>{console.log('timeout');process.exit(2)},Number(process.argv[3]));" +
    "s.on('connect',()=>{console.log('connected');clearTimeout(t);s.destroy();process.exit(0)});" +
    "s.on('error',e=>{console.log(e.code);process.exit(1)})";
  const result = await execIn(ns, process.execPath, ['-e', script, address, String(port), String(timeoutMs)]);
  return result.code === 0;
}
