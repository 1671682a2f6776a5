import type { ActionResult, ServiceManager, ServiceState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { failed } from './action-result.js';
import { DirectServiceManager, type KnownDaemon, type UserIds } from './direct.linux.js';
import { LaunchdServiceManager } from './launchd.darwin.js';
import { assertServiceName, isValidServiceName, refusedName } from './service-name.js';
import { fsProbe, type InitProbe, SystemdServiceManager, systemdIsRunning } from './systemd.linux.js';
import { SysvinitServiceManager } from './sysvinit.linux.js';
import { WindowsServiceManager } from './windows.windows.js';

export { DirectServiceManager, KNOWN_DAEMONS, type KnownDaemon } from './direct.linux.js';
export { LaunchdServiceManager } from './launchd.darwin.js';
export { InvalidServiceNameError, isValidServiceName, SERVICE_NAME } from './service-name.js';
export { SystemdServiceManager, systemdIsRunning } from './systemd.linux.js';
export { SysvinitServiceManager } from './sysvinit.linux.js';
export { WindowsServiceManager } from './windows.windows.js';

export interface ServiceManagerOptions {
  /** Where the init scripts are; default /etc/init.d. */
  initDir?: string;
  /** Holds rc2.d … rc5.d; default /etc. */
  rcDir?: string;
  /** Daemons the direct manager can start; default KNOWN_DAEMONS. */
  daemons?: Readonly<Record<string, KnownDaemon>>;
  lookupUser?: (name: string) => Promise<UserIds | null>;
  /** Reads /proc/1/comm and /run/systemd/system; tests fake them. */
  probe?: InitProbe;
}

export type LinuxInit = 'systemd' | 'sysvinit' | 'direct';

/** systemd when it is PID 1, else init scripts when their directory exists, else direct starts. */
export function detectLinuxInit(opts: ServiceManagerOptions = {}): LinuxInit {
  const probe = opts.probe ?? fsProbe;
  if (systemdIsRunning(probe)) return 'systemd';
  if (probe.isDirectory(opts.initDir ?? '/etc/init.d')) return 'sysvinit';
  return 'direct';
}

/**
 * The service manager for this machine. On Linux the choice is made once, here: systemd → init
 * scripts (with direct starts for daemons whose script is missing or starts nothing) → direct.
 * Other platforms get a manager that answers "unsupported" rather than throwing.
 */
export function platformServiceManager(platform: NodeJS.Platform, run: CommandRunner, opts: ServiceManagerOptions = {}): ServiceManager {
  if (platform === 'win32') return new WindowsServiceManager({ run });
  if (platform === 'darwin') return new LaunchdServiceManager({ run });
  if (platform !== 'linux') return new UnsupportedServiceManager(platform);
  const direct = new DirectServiceManager({
    run,
    ...(opts.daemons ? { daemons: opts.daemons } : {}),
    ...(opts.lookupUser ? { lookupUser: opts.lookupUser } : {}),
  });
  switch (detectLinuxInit(opts)) {
    case 'systemd':
      return new SystemdServiceManager({ run });
    case 'sysvinit':
      return new SysvinitServiceManager({
        run,
        direct,
        ...(opts.initDir ? { initDir: opts.initDir } : {}),
        ...(opts.rcDir ? { rcDir: opts.rcDir } : {}),
      });
    default:
      return direct;
  }
}

/** A platform this agent has no service manager for: nothing exists, nothing can be started. */
export class UnsupportedServiceManager implements ServiceManager {
  readonly kind = 'unsupported';

  constructor(private readonly platform: string) {}

  async status(name: string): Promise<ServiceState> {
    assertServiceName(name);
    return { exists: false, running: false, enabled: null, detail: `no service manager for ${this.platform}` };
  }

  async start(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    return failed('unsupported', `no service manager for ${this.platform}`);
  }

  async enable(name: string): Promise<ActionResult> {
    return this.start(name);
  }
}
