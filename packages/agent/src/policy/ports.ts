/**
 * What the policy engine needs from the machine, as small interfaces. The engine (policy/) decides;
 * these do: platform code implements them in `*.linux.ts`, `*.windows.ts`, `*.darwin.ts` files
 * (services/, av/, quarantine/, executors/), and tests pass fakes. Every name reaching a command has
 * been checked against a grammar first, and commands take argument arrays, never a shell.
 */

/** The outcome of one action on the machine, in words for the remediation event. */
export interface ActionResult {
  ok: boolean;
  /** What happened, or why not (one line, no secrets). */
  detail: string;
  /** A stable failure code when !ok: 'tool-missing', 'command-failed', 'busy', 'invalid-request', 'timeout', ... */
  code?: string;
}

export interface ServiceState {
  /** The service (unit, init script, Windows service, launchd job) is known on this machine. */
  exists: boolean;
  running: boolean;
  /** Starts at boot; null when the manager cannot tell. */
  enabled: boolean | null;
  /** How it was determined, e.g. "systemd: active (running)" or "pidof clamd: 1234". */
  detail: string;
}

/**
 * Starts and inspects services with whatever this machine has: systemd when it is PID 1, else the
 * distribution's init scripts / `service`, else starting the daemon directly; Windows services and
 * launchd behind the same interface.
 */
export interface ServiceManager {
  /** Which mechanism is in use ('systemd', 'sysvinit', 'direct', 'windows', 'launchd'). */
  readonly kind: string;
  status(name: string): Promise<ServiceState>;
  start(name: string): Promise<ActionResult>;
  /** Make it start at boot. A no-op with ok:true where the mechanism has no such notion. */
  enable(name: string): Promise<ActionResult>;
}

/** Install and remove packages for policies (the same executors deployments use). */
export interface PackageControl {
  /** The installed version, or null when the package is not installed. */
  installedVersion(name: string): Promise<string | null>;
  install(name: string): Promise<ActionResult>;
  remove(name: string): Promise<ActionResult>;
  /** Whether `installed` is at least `minimum` in this ecosystem's ordering. */
  atLeast(installed: string, minimum: string): boolean;
}

export interface AntivirusHealth {
  provider: 'clamav' | 'defender' | 'xprotect';
  installed: boolean;
  /** The scanning engine runs (clamd; Defender's real-time protection; XProtect is always on when present). */
  running: boolean;
  realTimeProtection: boolean;
  /** Hours since the newest signature database was built; null when unknown. */
  signatureAgeHours: number | null;
  /** A one-line summary for compliance reports. */
  detail: string;
}

/**
 * One antivirus product. `ensure` is the remediation: install what is missing, start what is
 * stopped, update definitions that are old; it returns what it did. The engine decides whether the
 * health is acceptable (maxSignatureAgeHours) and whether to call `ensure` (enforce mode only).
 */
export interface AntivirusProvider {
  readonly name: 'clamav' | 'defender' | 'xprotect';
  health(): Promise<AntivirusHealth>;
  ensure(want: { maxSignatureAgeHours: number }, current: AntivirusHealth): Promise<ActionResult[]>;
}

export interface FirewallState {
  enabled: boolean;
  detail: string;
}

/** The host firewall: whether it is on (policy rule), and the quarantine (isolate / release). */
export interface FirewallControl {
  readonly kind: string;
  state(): Promise<FirewallState>;
  /**
   * Drops everything except loopback, established connections and TCP to `allow` addresses (on
   * `ports`, or any port when empty). Idempotent; survives an agent restart (the rules live in the
   * kernel / OS firewall, and the agent re-applies them on start while its state says isolated).
   */
  isolate(allow: readonly string[], ports: readonly number[]): Promise<ActionResult>;
  release(): Promise<ActionResult>;
  isolated(): Promise<boolean>;
}

/** Reads a file's sha256 (hex), or null when it does not exist. */
export type FileHasher = (path: string) => Promise<string | null>;
