import type { CommandRunner } from '../run-command.js';
import { type OutputTail, runStep, StepFailed } from './package-executor.js';

/**
 * Name, EVR and arch per installed package. `%|EPOCH?{...}|` prints the epoch only when the package
 * has one, which is how rpm, dnf and zypper themselves show versions ("2:8.2.2637-20.el9_1").
 */
export const RPM_QUERY_FORMAT = '%{NAME}\\t%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\n';

export interface RpmInstalled {
  /** Installed EVRs by name; several for multilib (x86_64 and i686) or installonly packages (kernels). */
  versions: Map<string, string[]>;
  missing: string[];
}

/**
 * `rpm -q` for the given names. rpm prints "package X is not installed" (on stdout, exit 1) for each
 * name it does not know, which is an answer here rather than an error.
 */
export async function queryRpm(
  run: CommandRunner,
  log: OutputTail,
  names: readonly string[],
  rpmOptions: readonly string[] = [],
): Promise<RpmInstalled> {
  const result = await runStep(run, log, 'rpm', [...rpmOptions, '-q', '--queryformat', RPM_QUERY_FORMAT, '--', ...names], {
    timeoutMs: 60_000,
  });
  const versions = new Map<string, string[]>();
  const missing: string[] = [];
  for (const line of result.stdout.split('\n')) {
    const fields = line.split('\t');
    if (fields.length === 3 && fields[0] && fields[1]) {
      versions.set(fields[0], [...(versions.get(fields[0]) ?? []), fields[1]]);
      continue;
    }
    const absent = /^package (\S+) is not installed$/.exec(line.trim());
    if (absent?.[1]) missing.push(absent[1]);
  }
  if (result.code !== 0 && missing.length === 0) {
    throw new StepFailed('command-failed', `rpm -q failed: ${result.stderr.trim().slice(0, 300) || `exit ${result.code}`}`);
  }
  return { versions, missing: names.filter((n) => !versions.has(n) || missing.includes(n)) };
}

interface Evr {
  epoch: string | null;
  version: string;
  release: string | null;
}

function parseEvr(evr: string): Evr {
  const colon = evr.indexOf(':');
  const epoch = colon >= 0 ? evr.slice(0, colon) : null;
  const rest = colon >= 0 ? evr.slice(colon + 1) : evr;
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) } : { epoch, version: rest, release: null };
}

/**
 * Whether an installed EVR is what was asked for. The request may leave out the epoch and the
 * release, as dnf and zypper allow ("1.2.3" means any release of 1.2.3); what it names must match.
 * An installed package without an epoch has epoch 0.
 */
export function rpmVersionMatches(requested: string, installed: string): boolean {
  const want = parseEvr(requested);
  const have = parseEvr(installed);
  if (want.epoch !== null && Number(want.epoch) !== Number(have.epoch ?? '0')) return false;
  if (want.version !== have.version) return false;
  return want.release === null || want.release === have.release;
}
