import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalIp, MAX_ALLOW } from './policies/quarantine-addresses.js';

/** Server configuration: parsed once from the environment, validated, frozen. Units are in the names. */
export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  adminPassword: string | undefined;
  logLevel: string;
  /** The URL agents and operators use to reach this server (printed in enrolment instructions). */
  publicUrl: string | undefined;
  sessionTtlMs: number;
  heartbeatIntervalMs: number;
  authTimeoutMs: number;
  handshakesPerSecond: number;
  handshakeBurst: number;
  loginAttemptsPerMinute: number;
  enrollmentsPerMinute: number;
  /** A deployment touching more hosts than this needs a second person's approval. */
  approvalHostThreshold: number;
  /** How long signed work stays valid for an agent that is away (the deployment deadline caps it). */
  assignmentTtlHours: number;
  /** Honour X-Forwarded-For from a reverse proxy (nginx) when computing client addresses. */
  trustProxy: boolean;
  /**
   * Server addresses (IPs) a quarantined host may still reach, as agents reach the server (behind
   * NAT or a proxy: that address). Empty: the public URL's host if it is an IP, else the address the
   * agent's connection arrived at.
   */
  quarantineAllow: readonly string[];
  /** The built web console (index.html and assets/) served at `/`. */
  consoleDir: string;
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  // Plain decimal digits only: Number() alone would also take "0x50", "1e3" and " 80".
  const value = /^-?[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return value;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function ipList(env: NodeJS.ProcessEnv, name: string): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return Object.freeze([]);
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const ip = canonicalIp(part.trim());
    if (!ip || part.includes('/') || part.includes('%'))
      throw new ConfigError(
        `${name} must be comma-separated IP addresses (no names, prefixes or zones), got ${JSON.stringify(part.trim())}`,
      );
    if (!out.includes(ip)) out.push(ip);
  }
  if (out.length > MAX_ALLOW - 1) throw new ConfigError(`${name} may list at most ${MAX_ALLOW - 1} addresses`);
  return Object.freeze(out);
}

/**
 * packages/console/dist: this file is packages/server/src/config.ts under tsx and vitest and
 * packages/server/dist/config.js once built, two levels below packages/ either way.
 */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/dist', import.meta.url));

export const CONFIG_DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  dataDir: './data',
  logLevel: 'info',
  sessionTtlMs: 12 * 3_600_000,
  heartbeatIntervalMs: 30_000,
  authTimeoutMs: 10_000,
  handshakesPerSecond: 50,
  handshakeBurst: 200,
  loginAttemptsPerMinute: 10,
  enrollmentsPerMinute: 30,
  approvalHostThreshold: 50,
  assignmentTtlHours: 72,
} as const;

export function parseConfig(env: NodeJS.ProcessEnv): Readonly<ServerConfig> {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  const publicUrl = env.BRIER_PUBLIC_URL || undefined;
  if (publicUrl && !/^https?:\/\//.test(publicUrl)) throw new ConfigError('BRIER_PUBLIC_URL must start with http:// or https://');
  return Object.freeze({
    port: int(env, 'BRIER_PORT', CONFIG_DEFAULTS.port, 0, 65535),
    host: env.BRIER_HOST || CONFIG_DEFAULTS.host,
    dataDir: path.resolve(env.BRIER_DATA_DIR || CONFIG_DEFAULTS.dataDir),
    databaseUrl,
    adminPassword: env.BRIER_ADMIN_PASSWORD || undefined,
    logLevel: env.BRIER_LOG_LEVEL || CONFIG_DEFAULTS.logLevel,
    publicUrl,
    sessionTtlMs: int(env, 'BRIER_SESSION_TTL_MS', CONFIG_DEFAULTS.sessionTtlMs, 60_000, 30 * 86_400_000),
    heartbeatIntervalMs: int(env, 'BRIER_HEARTBEAT_INTERVAL_MS', CONFIG_DEFAULTS.heartbeatIntervalMs, 1_000, 600_000),
    authTimeoutMs: int(env, 'BRIER_AUTH_TIMEOUT_MS', CONFIG_DEFAULTS.authTimeoutMs, 500, 120_000),
    handshakesPerSecond: int(env, 'BRIER_HANDSHAKES_PER_SECOND', CONFIG_DEFAULTS.handshakesPerSecond, 1, 100_000),
    handshakeBurst: int(env, 'BRIER_HANDSHAKE_BURST', CONFIG_DEFAULTS.handshakeBurst, 1, 1_000_000),
    loginAttemptsPerMinute: int(env, 'BRIER_LOGIN_ATTEMPTS_PER_MINUTE', CONFIG_DEFAULTS.loginAttemptsPerMinute, 1, 100_000),
    enrollmentsPerMinute: int(env, 'BRIER_ENROLLMENTS_PER_MINUTE', CONFIG_DEFAULTS.enrollmentsPerMinute, 1, 1_000_000),
    approvalHostThreshold: int(env, 'BRIER_APPROVAL_HOST_THRESHOLD', CONFIG_DEFAULTS.approvalHostThreshold, 0, 10_000_000),
    assignmentTtlHours: int(env, 'BRIER_ASSIGNMENT_TTL_HOURS', CONFIG_DEFAULTS.assignmentTtlHours, 1, 24 * 90),
    trustProxy: bool(env, 'BRIER_TRUST_PROXY', false),
    quarantineAllow: ipList(env, 'BRIER_QUARANTINE_ALLOW'),
    consoleDir: path.resolve(env.BRIER_CONSOLE_DIR || DEFAULT_CONSOLE_DIR),
  });
}
