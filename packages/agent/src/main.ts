import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BrierError, type Ecosystem } from '@brier/protocol';
import cron from 'node-cron';
import pino from 'pino';
import si from 'systeminformation';
import { buildAgent } from './agent.js';
import { collectInventory } from './collectors/inventory.js';
import { collectNeighbors } from './collectors/neighbors/index.js';
import { collectPendingUpdates } from './collectors/updates/index.js';
import { enroll } from './enroll.js';
import { ApkExecutor } from './executors/apk.linux.js';
import { AptExecutor } from './executors/apt.linux.js';
import { AptControl } from './executors/apt-control.linux.js';
import { DnfExecutor } from './executors/dnf.linux.js';
import type { PackageExecutor } from './executors/package-executor.js';
import { WindowsPackageExecutor } from './executors/windows-package-executor.windows.js';
import { WindowsUpdateExecutor } from './executors/windows-update.windows.js';
import { WingetExecutor } from './executors/winget.windows.js';
import { ZypperExecutor } from './executors/zypper.linux.js';
import { hostPolicyPorts } from './policy/host-ports.js';
import { platformFirewall } from './quarantine/index.js';
import { parseRebootSwitch, platformRebooter } from './reboot/platform-rebooter.js';
import { runCommand } from './run-command.js';
import { platformServiceManager } from './services/index.js';
import { AgentState, StateError } from './state/agent-state.js';
import { LEDGER_FILE, Ledger } from './state/ledger.js';

export const AGENT_VERSION = '0.1.0';
const DEFAULT_INVENTORY_CRON = '*/30 * * * *';
/** Scheduled scans start up to this long after their tick, so a fleet does not report in lockstep. */
const SCHEDULE_JITTER_MS = 120_000;

const HELP = `brier-agent ${AGENT_VERSION}: the Brier agent

Usage:
  brier-agent enroll --server URL --token TOKEN [--state-dir DIR] [--hostname NAME]
      Enrol this machine with a join token (from 'brier tokens create'). Pins the server key
      named in the token and stores this machine's new identity in the state directory.
  brier-agent run [--state-dir DIR] [--inventory-cron EXPR] [--log-level LEVEL] [--reboot on|off]
      Stay connected to the server, report inventory on connect and on the schedule
      (default '${DEFAULT_INVENTORY_CRON}'), and run signed package work the server assigns
      (apt, dnf, zypper, apk on Linux; winget and Windows Update on Windows). After the work,
      restart the host as the deployment's reboot policy asks (a few minutes' warning), unless
      --reboot off (or BRIER_AGENT_REBOOT=off). Enforces the signed policies the server sends
      (kept in the state directory, so they hold offline too), applies signed quarantine orders,
      and reports its neighbour table. Stops cleanly on SIGTERM/SIGINT.
  brier-agent scan [--json]
      Print the inventory this machine would report, without any server.
  brier-agent status [--state-dir DIR]
      Show the identity stored in the state directory.

Options:
  --state-dir DIR   Default: $BRIER_AGENT_STATE_DIR, else /var/lib/brier-agent as root,
                    else ~/.local/state/brier-agent
  -h, --help        Show this help.  -v, --version  Show the version.
`;

function defaultStateDir(): string {
  if (process.env.BRIER_AGENT_STATE_DIR) return process.env.BRIER_AGENT_STATE_DIR;
  if (process.getuid?.() === 0) return '/var/lib/brier-agent';
  return path.join(os.homedir(), '.local', 'state', 'brier-agent');
}

function collect() {
  return collectInventory({
    run: runCommand,
    readFile: (p) => readFile(p, 'utf8'),
    si,
    platform: process.platform,
    agentVersion: AGENT_VERSION,
  });
}

/** Whether `cmd` is an executable file in one of PATH's directories. */
function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(path.join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The package managers this host has, for signed work, each on the real system (no options). One
 * per ecosystem: rpm hosts use dnf (or yum, its dnf 4 name) where present, else zypper (SUSE).
 */
function hostExecutors(): Partial<Record<Ecosystem, PackageExecutor>> {
  const executors: Partial<Record<Ecosystem, PackageExecutor>> = {};
  if (process.platform === 'win32') {
    // KB articles go to Windows Update, other ids to winget (when this account has it on PATH).
    executors.windows = new WindowsPackageExecutor({
      ...(onPath('winget.exe') ? { winget: new WingetExecutor({ run: runCommand }) } : {}),
      windowsUpdate: new WindowsUpdateExecutor({ run: runCommand }),
    });
    return executors;
  }
  if (process.platform !== 'linux') return executors;
  if (onPath('apt-get')) executors.dpkg = new AptExecutor({ run: runCommand });
  if (onPath('dnf')) executors.rpm = new DnfExecutor({ run: runCommand });
  else if (onPath('yum')) executors.rpm = new DnfExecutor({ run: runCommand, command: 'yum' });
  else if (onPath('zypper')) executors.rpm = new ZypperExecutor({ run: runCommand });
  if (onPath('apk')) executors.apk = new ApkExecutor({ run: runCommand });
  return executors;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return command ? 0 : 2;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        server: { type: 'string' },
        token: { type: 'string' },
        'state-dir': { type: 'string' },
        hostname: { type: 'string' },
        'inventory-cron': { type: 'string' },
        'log-level': { type: 'string' },
        reboot: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const state = new AgentState(path.resolve(String(values['state-dir'] ?? defaultStateDir())));

  switch (command) {
    case 'scan': {
      const inventory = await collect();
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ facts: inventory.facts, packages: inventory.packages }, null, 2)}\n`);
      } else {
        const { facts } = inventory;
        process.stdout.write(
          `${facts.hostname}: ${facts.os.distro} ${facts.os.release} (${facts.os.platform}/${facts.os.arch ?? '?'})\n` +
            `${inventory.packages.length} packages from ${inventory.sources.join(', ') || 'no package manager'}` +
            `${inventory.invalid ? `, ${inventory.invalid} unreadable entries skipped` : ''}\n`,
        );
      }
      return 0;
    }
    case 'enroll': {
      if (typeof values.server !== 'string' || typeof values.token !== 'string')
        throw new UsageError('enroll needs --server URL and --token TOKEN');
      const { identity, status } = await enroll({
        serverUrl: values.server,
        token: values.token,
        hostname: typeof values.hostname === 'string' ? values.hostname : os.hostname(),
        state,
      });
      process.stdout.write(
        `Enrolled as host ${identity.hostId} (${status}); server key ${identity.serverFingerprint} pinned.\n` +
          `Identity stored in ${state.dir}.\n` +
          (status === 'pending' ? 'An administrator must approve this host (brier hosts approve ID) before it reports.\n' : '') +
          `Now run: brier-agent run${values['state-dir'] ? ` --state-dir ${state.dir}` : ''}\n`,
      );
      return 0;
    }
    case 'status': {
      const identity = state.readIdentity();
      if (!identity) {
        process.stdout.write(`Not enrolled (no identity in ${state.dir}).\n`);
        return 1;
      }
      process.stdout.write(
        `host ${identity.hostId}\nserver ${identity.serverUrl}\nserver key ${identity.serverFingerprint}\nenrolled ${identity.enrolledAt}\n`,
      );
      return 0;
    }
    case 'run': {
      let rebootSwitch: ReturnType<typeof parseRebootSwitch>;
      try {
        rebootSwitch = parseRebootSwitch(typeof values.reboot === 'string' ? values.reboot : process.env.BRIER_AGENT_REBOOT);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const identity = state.readIdentity();
      if (!identity) throw new UsageError(`not enrolled: no identity in ${state.dir}; run 'brier-agent enroll' first`);
      const inventoryCron = String(values['inventory-cron'] ?? process.env.BRIER_AGENT_INVENTORY_CRON ?? DEFAULT_INVENTORY_CRON);
      if (!cron.validate(inventoryCron)) throw new UsageError(`--inventory-cron ${JSON.stringify(inventoryCron)} is not a cron expression`);
      const logger = pino({
        level: String(values['log-level'] ?? process.env.BRIER_AGENT_LOG_LEVEL ?? 'info'),
        base: { service: 'brier-agent', hostId: identity.hostId },
        redact: { paths: ['privateKeyPem', '*.privateKeyPem', 'token', '*.token'], censor: '[redacted]' },
      });
      // Opened before connecting: a damaged ledger stops the agent (LedgerError) rather than risk running work twice.
      const ledger = Ledger.open(path.join(state.dir, LEDGER_FILE));
      const executors = hostExecutors();
      const agent = buildAgent({
        state,
        identity,
        ledger,
        executors,
        rebooter: platformRebooter(process.platform, runCommand, rebootSwitch),
        firewall: platformFirewall(process.platform, runCommand, { stateDir: state.dir }),
        // Policies install and remove with apt (Debian, Ubuntu); elsewhere package rules report 'error'.
        policyPorts: hostPolicyPorts({
          platform: process.platform,
          run: runCommand,
          services: platformServiceManager(process.platform, runCommand),
          ...(process.platform === 'linux' && onPath('apt-get') ? { packages: new AptControl({ run: runCommand }) } : {}),
        }),
        collect,
        collectUpdates: () => collectPendingUpdates({ run: runCommand, platform: process.platform }),
        collectNeighbors: () => collectNeighbors({ run: runCommand, readFile: (p) => readFile(p, 'utf8'), platform: process.platform }),
        logger,
        inventoryCron,
        scheduler: {
          schedule(expression, task) {
            const job = cron.schedule(expression, () => {
              setTimeout(task, Math.random() * SCHEDULE_JITTER_MS).unref();
            });
            return () => void job.stop();
          },
        },
      });
      const stopped = new Promise<number>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'stopping');
          agent.stop().then(
            () => resolve(0),
            () => resolve(1),
          );
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      agent.start();
      logger.info({ server: identity.serverUrl, inventoryCron, executors: Object.keys(executors), reboot: rebootSwitch }, 'agent started');
      // Exit code 3 means "this identity is finished": service managers should not restart us.
      return Promise.race([
        stopped,
        agent.fatal.then(
          () => 0,
          () => 3,
        ),
      ]);
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`brier-agent: ${err.message}\nRun 'brier-agent --help' for usage.\n`);
      process.exit(2);
    }
    if (err instanceof BrierError) {
      process.stderr.write(`brier-agent: ${err.message} [${err.code}]\n`);
      process.exit(1);
    }
    if (err instanceof StateError) {
      process.stderr.write(`brier-agent: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`brier-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
