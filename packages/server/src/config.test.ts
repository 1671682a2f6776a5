import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS, ConfigError, DEFAULT_CONSOLE_DIR, parseConfig } from './config.js';

describe('parseConfig', () => {
  it('applies the defaults to an empty environment', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      dataDir: path.resolve('./data'),
      databaseUrl: undefined,
      adminPassword: undefined,
      publicUrl: undefined,
      logLevel: 'info',
      trustProxy: false,
      sessionTtlMs: CONFIG_DEFAULTS.sessionTtlMs,
      loginAttemptsPerMinute: CONFIG_DEFAULTS.loginAttemptsPerMinute,
      enrollmentsPerMinute: CONFIG_DEFAULTS.enrollmentsPerMinute,
    });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
  });

  it('uses the embedded database when DATABASE_URL is unset or empty', () => {
    expect(parseConfig({}).databaseUrl).toBeUndefined();
    expect(parseConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('reads every setting from the environment', () => {
    const config = parseConfig({
      BRIER_PORT: '9443',
      BRIER_HOST: '127.0.0.1',
      BRIER_DATA_DIR: '/var/lib/brier',
      DATABASE_URL: 'postgresql://brier:secret@db.internal:5432/brier',
      BRIER_ADMIN_PASSWORD: 'a long admin password',
      BRIER_LOG_LEVEL: 'debug',
      BRIER_PUBLIC_URL: 'https://brier.example.org',
      BRIER_SESSION_TTL_MS: '3600000',
      BRIER_HEARTBEAT_INTERVAL_MS: '15000',
      BRIER_AUTH_TIMEOUT_MS: '5000',
      BRIER_HANDSHAKES_PER_SECOND: '10',
      BRIER_HANDSHAKE_BURST: '20',
      BRIER_LOGIN_ATTEMPTS_PER_MINUTE: '3',
      BRIER_ENROLLMENTS_PER_MINUTE: '2',
      BRIER_APPROVAL_HOST_THRESHOLD: '10',
      BRIER_ASSIGNMENT_TTL_HOURS: '24',
      BRIER_TRUST_PROXY: 'true',
      BRIER_QUARANTINE_ALLOW: '10.0.0.5, 2001:DB8:0::7',
      BRIER_CONSOLE_DIR: '/srv/brier/console',
    });
    expect(config).toEqual({
      port: 9443,
      host: '127.0.0.1',
      dataDir: '/var/lib/brier',
      databaseUrl: 'postgresql://brier:secret@db.internal:5432/brier',
      adminPassword: 'a long admin password',
      logLevel: 'debug',
      publicUrl: 'https://brier.example.org',
      sessionTtlMs: 3_600_000,
      heartbeatIntervalMs: 15_000,
      authTimeoutMs: 5_000,
      handshakesPerSecond: 10,
      handshakeBurst: 20,
      loginAttemptsPerMinute: 3,
      enrollmentsPerMinute: 2,
      approvalHostThreshold: 10,
      assignmentTtlHours: 24,
      trustProxy: true,
      quarantineAllow: ['10.0.0.5', '2001:db8::7'],
      consoleDir: '/srv/brier/console',
    });
  });

  it('serves the console from packages/console/dist next to the server package unless told otherwise', () => {
    expect(parseConfig({}).consoleDir).toBe(DEFAULT_CONSOLE_DIR);
    expect(DEFAULT_CONSOLE_DIR.split(path.sep).slice(-3)).toEqual(['packages', 'console', 'dist']);
    expect(parseConfig({ BRIER_CONSOLE_DIR: 'web' }).consoleDir).toBe(path.resolve('web'));
  });

  it('resolves a relative data directory against the working directory', () => {
    expect(parseConfig({ BRIER_DATA_DIR: 'state/brier' }).dataDir).toBe(path.resolve('state/brier'));
  });

  it('returns a frozen object', () => {
    const config = parseConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(8080);
  });

  it.each(['-1', '65536', '80.5', 'http', '0x50', '1e3', ' 80', '8080abc'])('rejects BRIER_PORT=%j', (port) => {
    expect(() => parseConfig({ BRIER_PORT: port })).toThrow(ConfigError);
    expect(() => parseConfig({ BRIER_PORT: port })).toThrow(/BRIER_PORT/);
  });

  it('accepts port 0 (any free port) and 65535', () => {
    expect(parseConfig({ BRIER_PORT: '0' }).port).toBe(0);
    expect(parseConfig({ BRIER_PORT: '65535' }).port).toBe(65535);
  });

  it.each(['mysql://db/brier', 'db.internal:5432', 'http://db/brier', 'postgres:/db', ' postgres://db/brier'])(
    'rejects DATABASE_URL=%j',
    (url) => {
      expect(() => parseConfig({ DATABASE_URL: url })).toThrow(ConfigError);
    },
  );

  it('never repeats a rejected DATABASE_URL, which may hold a password, in its error', () => {
    expect(() => parseConfig({ DATABASE_URL: 'mysql://root:hunter2hunter2@db/brier' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  it.each(['ftp://brier.example.org', 'brier.example.org', 'javascript:alert(1)'])('rejects BRIER_PUBLIC_URL=%j', (url) => {
    expect(() => parseConfig({ BRIER_PUBLIC_URL: url })).toThrow(ConfigError);
  });

  it.each([
    ['BRIER_SESSION_TTL_MS', '59999'],
    ['BRIER_HEARTBEAT_INTERVAL_MS', '999'],
    ['BRIER_AUTH_TIMEOUT_MS', 'soon'],
    ['BRIER_LOGIN_ATTEMPTS_PER_MINUTE', '0'],
    ['BRIER_ENROLLMENTS_PER_MINUTE', '-5'],
    ['BRIER_HANDSHAKES_PER_SECOND', '1.5'],
  ])('rejects %s=%j', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it.each([
    ['1', true],
    ['yes', true],
    ['TRUE', true],
    ['0', false],
    ['no', false],
    ['False', false],
  ])('reads BRIER_TRUST_PROXY=%j as %s', (value, expected) => {
    expect(parseConfig({ BRIER_TRUST_PROXY: value }).trustProxy).toBe(expected);
  });

  it('has no quarantine allow list by default', () => {
    expect(parseConfig({}).quarantineAllow).toEqual([]);
    expect(parseConfig({ BRIER_QUARANTINE_ALLOW: ' ' }).quarantineAllow).toEqual([]);
  });

  it.each(['brier.example.org', '10.0.0.0/8', '10.0.0.1,', '300.1.1.1', 'fe80::1%eth0', '10.0.0.1;rm -rf /'])(
    'rejects BRIER_QUARANTINE_ALLOW=%j',
    (value) => {
      expect(() => parseConfig({ BRIER_QUARANTINE_ALLOW: value })).toThrow(/BRIER_QUARANTINE_ALLOW/);
    },
  );

  it('rejects a BRIER_TRUST_PROXY that is neither true nor false', () => {
    expect(() => parseConfig({ BRIER_TRUST_PROXY: 'maybe' })).toThrow(ConfigError);
  });
});
