import { hostname as osHostname } from 'node:os';
import type { HostFacts } from '@brier/protocol';
import type { Systeminformation } from 'systeminformation';
import { clipText, optionalText } from './clean-text.js';

/**
 * The part of the systeminformation module facts are built from. The real module satisfies it;
 * tests pass recorded objects with just these fields.
 */
export interface FactsSource {
  osInfo(): Promise<Pick<Systeminformation.OsData, 'platform' | 'distro' | 'release' | 'codename' | 'kernel' | 'arch' | 'hostname'>>;
  system(): Promise<Pick<Systeminformation.SystemData, 'manufacturer' | 'model' | 'serial'>>;
  cpu(): Promise<Pick<Systeminformation.CpuData, 'manufacturer' | 'brand' | 'cores'>>;
  mem(): Promise<Pick<Systeminformation.MemData, 'total'>>;
  networkInterfaces(): Promise<Pick<Systeminformation.NetworkInterfacesData, 'iface' | 'mac' | 'ip4' | 'ip6' | 'internal'>[]>;
}

/** What firmware and systeminformation print when a DMI field is unset; reporting them would be noise. */
const PLACEHOLDERS = new Set([
  '-',
  '0',
  'none',
  'n/a',
  'unknown',
  'not specified',
  'not applicable',
  'default string',
  'system serial number',
  'system manufacturer',
  'system product name',
  'to be filled by o.e.m.',
  'o.e.m.',
  '0123456789',
]);

function hardwareText(value: string | undefined, maxLength: number): string | undefined {
  const text = optionalText(value, maxLength);
  return text === undefined || PLACEHOLDERS.has(text.toLowerCase()) ? undefined : text;
}

function count(value: number | undefined, max: number): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? Math.min(value, max) : undefined;
}

const NO_MAC = /^(00[:-]){5}00$/;
const MAX_INTERFACES = 256;
const MAX_ADDRESSES = 64;

/**
 * Interfaces grouped by name (systeminformation may list one per address). Loopback and other
 * internal interfaces are left out: every host has the same ones. An all-zero MAC means none.
 */
function networkOf(interfaces: Awaited<ReturnType<FactsSource['networkInterfaces']>>): HostFacts['network'] {
  const byName = new Map<string, HostFacts['network'][number]>();
  for (const nic of interfaces) {
    if (nic.internal) continue;
    const name = clipText(nic.iface ?? '', 128);
    let entry = byName.get(name);
    if (!entry) {
      if (byName.size >= MAX_INTERFACES) continue;
      entry = { name, ipv4: [], ipv6: [] };
      byName.set(name, entry);
    }
    const mac = optionalText(nic.mac, 64);
    if (mac && !NO_MAC.test(mac) && entry.mac === undefined) entry.mac = mac;
    const ip4 = optionalText(nic.ip4, 64);
    if (ip4 && !entry.ipv4.includes(ip4) && entry.ipv4.length < MAX_ADDRESSES) entry.ipv4.push(ip4);
    const ip6 = optionalText(nic.ip6, 128);
    if (ip6 && !entry.ipv6.includes(ip6) && entry.ipv6.length < MAX_ADDRESSES) entry.ipv6.push(ip6);
  }
  return [...byName.values()].filter((n) => n.mac !== undefined || n.ipv4.length > 0 || n.ipv6.length > 0);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * OS, hardware and network facts, every string cleaned and clipped to the protocol's limits.
 * `cores` is the number of logical processors the OS schedules on.
 */
export async function collectFacts(si: FactsSource, agentVersion: string): Promise<HostFacts> {
  let os: Awaited<ReturnType<FactsSource['osInfo']>>;
  let system: Awaited<ReturnType<FactsSource['system']>>;
  let cpu: Awaited<ReturnType<FactsSource['cpu']>>;
  let mem: Awaited<ReturnType<FactsSource['mem']>>;
  let nics: Awaited<ReturnType<FactsSource['networkInterfaces']>>;
  try {
    [os, system, cpu, mem, nics] = await Promise.all([si.osInfo(), si.system(), si.cpu(), si.mem(), si.networkInterfaces()]);
  } catch (err) {
    throw new Error('could not read host facts', { cause: err });
  }
  const cpuName = [cpu.manufacturer, cpu.brand].filter((part) => typeof part === 'string' && part.trim() !== '').join(' ');
  return {
    hostname: clipText(os.hostname || '', 255) || clipText(osHostname(), 255) || 'localhost',
    os: withoutUndefined({
      platform: clipText(os.platform ?? '', 64),
      distro: clipText(os.distro ?? '', 128),
      release: clipText(os.release ?? '', 64),
      codename: optionalText(os.codename, 64),
      kernel: optionalText(os.kernel, 128),
      arch: optionalText(os.arch, 64),
    }),
    hardware: withoutUndefined({
      vendor: hardwareText(system.manufacturer, 128),
      model: hardwareText(system.model, 128),
      serial: hardwareText(system.serial, 128),
      cpu: optionalText(cpuName, 256),
      cores: count(cpu.cores, 100_000),
      memoryBytes: count(mem.total, Number.MAX_SAFE_INTEGER),
    }),
    network: networkOf(nics),
    agentVersion: clipText(agentVersion, 64),
  };
}
