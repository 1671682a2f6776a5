import { compareVersions, type PolicyMode, type PolicyRule } from '@brier/protocol';
import { describe, expect, it } from 'vitest';
import {
  antivirusFor,
  DEFAULT_MAX_SIGNATURE_AGE_HOURS,
  describePlan,
  evaluateRule,
  NOT_REMEDIATED,
  type Observation,
  oneLine,
  type RemediationPlan,
} from './evaluate.js';
import type { AntivirusHealth, ServiceState } from './ports.js';

const atLeast = (installed: string, minimum: string) => compareVersions('dpkg', installed, minimum) >= 0;

const service = (over: Partial<ServiceState>): Observation => ({
  kind: 'service',
  state: { exists: true, running: true, enabled: true, detail: 'sysvinit: running', ...over },
});
const av = (over: Partial<AntivirusHealth>): Observation => ({
  kind: 'antivirus',
  health: {
    provider: 'clamav',
    installed: true,
    running: true,
    realTimeProtection: false,
    signatureAgeHours: 3,
    detail: 'clamd 1234',
    ...over,
  },
});
const SHA = 'a'.repeat(64);
const OTHER_SHA = 'b'.repeat(64);

interface Case {
  name: string;
  rule: PolicyRule;
  observed: Observation;
  status: 'compliant' | 'noncompliant' | 'error';
  /** The plan in enforce mode (audit mode never has one). */
  plan: RemediationPlan | null;
  detail: string;
}

const CASES: Case[] = [
  // package-installed
  {
    name: 'a missing package',
    rule: { kind: 'package-installed', name: 'clamav' },
    observed: { kind: 'package', installed: null },
    status: 'noncompliant',
    plan: { action: 'install-package', name: 'clamav' },
    detail: 'clamav is not installed',
  },
  {
    name: 'an installed package',
    rule: { kind: 'package-installed', name: 'clamav' },
    observed: { kind: 'package', installed: '1.0.7+dfsg-1' },
    status: 'compliant',
    plan: null,
    detail: 'clamav 1.0.7+dfsg-1 is installed',
  },
  {
    name: 'a package at its minimum version',
    rule: { kind: 'package-installed', name: 'clamav', minVersion: '1.0.7' },
    observed: { kind: 'package', installed: '1.0.7' },
    status: 'compliant',
    plan: null,
    detail: 'at least 1.0.7',
  },
  {
    name: 'a package older than its minimum (dpkg ordering: 1.0~rc1 < 1.0)',
    rule: { kind: 'package-installed', name: 'clamav', minVersion: '1.0' },
    observed: { kind: 'package', installed: '1.0~rc1' },
    status: 'noncompliant',
    plan: { action: 'install-package', name: 'clamav' },
    detail: 'clamav 1.0~rc1 is installed, older than 1.0',
  },
  {
    name: 'a minimum that cannot be compared',
    rule: { kind: 'package-installed', name: 'clamav', minVersion: 'x:y' },
    observed: { kind: 'package', installed: '1.0' },
    status: 'error',
    plan: null,
    detail: 'cannot compare clamav 1.0 with x:y',
  },
  {
    name: 'a package the package manager could not read',
    rule: { kind: 'package-installed', name: 'clamav' },
    observed: { kind: 'failed', detail: 'dpkg-query could not read the installed packages' },
    status: 'error',
    plan: null,
    detail: 'dpkg-query could not read the installed packages',
  },
  // package-absent
  {
    name: 'a forbidden package that is installed',
    rule: { kind: 'package-absent', name: 'telnet' },
    observed: { kind: 'package', installed: '0.17-44' },
    status: 'noncompliant',
    plan: { action: 'remove-package', name: 'telnet' },
    detail: 'telnet 0.17-44 is installed',
  },
  {
    name: 'a forbidden package that is absent',
    rule: { kind: 'package-absent', name: 'telnet' },
    observed: { kind: 'package', installed: null },
    status: 'compliant',
    plan: null,
    detail: 'telnet is not installed',
  },
  // service-running
  {
    name: 'a running, enabled service',
    rule: { kind: 'service-running', name: 'clamav-daemon' },
    observed: service({}),
    status: 'compliant',
    plan: null,
    detail: 'service clamav-daemon is running (sysvinit: running)',
  },
  {
    name: 'a stopped service that also does not start at boot',
    rule: { kind: 'service-running', name: 'clamav-daemon' },
    observed: service({ running: false, enabled: false }),
    status: 'noncompliant',
    plan: { action: 'start-service', name: 'clamav-daemon', start: true, enable: true },
    detail: 'service clamav-daemon is not running',
  },
  {
    name: 'a stopped service whose boot setting is unknown',
    rule: { kind: 'service-running', name: 'clamav-daemon' },
    observed: service({ running: false, enabled: null }),
    status: 'noncompliant',
    plan: { action: 'start-service', name: 'clamav-daemon', start: true, enable: false },
    detail: 'is not running',
  },
  {
    name: 'a running service that does not start at boot',
    rule: { kind: 'service-running', name: 'clamav-daemon' },
    observed: service({ enabled: false }),
    status: 'noncompliant',
    plan: { action: 'start-service', name: 'clamav-daemon', start: false, enable: true },
    detail: 'does not start at boot',
  },
  {
    name: 'a running service not enabled when the rule does not ask for it',
    rule: { kind: 'service-running', name: 'clamav-daemon', enable: false },
    observed: service({ enabled: false }),
    status: 'compliant',
    plan: null,
    detail: 'is running',
  },
  {
    name: 'a service that does not exist (no plan: installing it is a package rule)',
    rule: { kind: 'service-running', name: 'clamav-daemon' },
    observed: service({ exists: false, running: false, enabled: null, detail: 'no init script' }),
    status: 'noncompliant',
    plan: null,
    detail: 'service clamav-daemon does not exist on this host (no init script)',
  },
  {
    name: 'a service manager that failed',
    rule: { kind: 'service-running', name: 'clamav-daemon' },
    observed: { kind: 'failed', detail: 'service: command not found' },
    status: 'error',
    plan: null,
    detail: 'service: command not found',
  },
  // antivirus
  {
    name: 'healthy antivirus',
    rule: { kind: 'antivirus', provider: 'clamav' },
    observed: av({}),
    status: 'compliant',
    plan: null,
    detail: 'clamav: running, signatures 3 h old (clamd 1234)',
  },
  {
    name: 'antivirus not installed',
    rule: { kind: 'antivirus', provider: 'auto' },
    observed: av({ installed: false, running: false, signatureAgeHours: null, detail: '' }),
    status: 'noncompliant',
    plan: { action: 'ensure-antivirus', provider: 'clamav', maxSignatureAgeHours: DEFAULT_MAX_SIGNATURE_AGE_HOURS },
    detail: 'clamav: not installed',
  },
  {
    name: 'antivirus installed but stopped',
    rule: { kind: 'antivirus', provider: 'clamav' },
    observed: av({ running: false }),
    status: 'noncompliant',
    plan: { action: 'ensure-antivirus', provider: 'clamav', maxSignatureAgeHours: DEFAULT_MAX_SIGNATURE_AGE_HOURS },
    detail: 'clamav: not running',
  },
  {
    name: 'antivirus with signatures older than the rule allows',
    rule: { kind: 'antivirus', provider: 'clamav', maxSignatureAgeHours: 24 },
    observed: av({ signatureAgeHours: 30 }),
    status: 'noncompliant',
    plan: { action: 'ensure-antivirus', provider: 'clamav', maxSignatureAgeHours: 24 },
    detail: 'signatures 30 h old (at most 24 h)',
  },
  {
    name: 'antivirus whose signature age is unknown',
    rule: { kind: 'antivirus', provider: 'clamav' },
    observed: av({ signatureAgeHours: null }),
    status: 'noncompliant',
    plan: { action: 'ensure-antivirus', provider: 'clamav', maxSignatureAgeHours: DEFAULT_MAX_SIGNATURE_AGE_HOURS },
    detail: 'signature age unknown',
  },
  {
    name: 'antivirus that could not be read',
    rule: { kind: 'antivirus', provider: 'defender' },
    observed: { kind: 'failed', detail: 'Get-MpComputerStatus failed' },
    status: 'error',
    plan: null,
    detail: 'Get-MpComputerStatus failed',
  },
  // firewall-enabled
  {
    name: 'a firewall that is on',
    rule: { kind: 'firewall-enabled' },
    observed: { kind: 'firewall', state: { enabled: true, detail: 'nftables: 3 chains' } },
    status: 'compliant',
    plan: null,
    detail: 'the firewall is on (nftables: 3 chains)',
  },
  {
    name: 'a firewall that is off (never switched on automatically)',
    rule: { kind: 'firewall-enabled' },
    observed: { kind: 'firewall', state: { enabled: false, detail: 'nftables: no ruleset' } },
    status: 'noncompliant',
    plan: null,
    detail: 'the firewall is off (nftables: no ruleset)',
  },
  {
    name: 'a firewall that could not be read',
    rule: { kind: 'firewall-enabled' },
    observed: { kind: 'failed', detail: 'nft: not found' },
    status: 'error',
    plan: null,
    detail: 'nft: not found',
  },
  // file-present
  {
    name: 'a file with the expected content',
    rule: { kind: 'file-present', path: '/etc/brier/banner', sha256: SHA },
    observed: { kind: 'file', sha256: SHA },
    status: 'compliant',
    plan: null,
    detail: '/etc/brier/banner has the expected sha256',
  },
  {
    name: 'a missing file (never written automatically)',
    rule: { kind: 'file-present', path: '/etc/brier/banner', sha256: SHA },
    observed: { kind: 'file', sha256: null },
    status: 'noncompliant',
    plan: null,
    detail: '/etc/brier/banner does not exist',
  },
  {
    name: 'a file with other content',
    rule: { kind: 'file-present', path: '/etc/brier/banner', sha256: SHA },
    observed: { kind: 'file', sha256: OTHER_SHA },
    status: 'noncompliant',
    plan: null,
    detail: 'has sha256 bbbbbbbbbbbb…, expected aaaaaaaaaaaa…',
  },
  {
    name: 'a file that could not be read',
    rule: { kind: 'file-present', path: '/etc/brier/banner', sha256: SHA },
    observed: { kind: 'failed', detail: 'EACCES' },
    status: 'error',
    plan: null,
    detail: 'EACCES',
  },
];

const MODES: PolicyMode[] = ['audit', 'enforce'];

describe('evaluateRule', () => {
  describe.each(MODES)('in %s mode', (mode) => {
    it.each(CASES.map((c) => [c.name, c] as const))('judges %s', (_name, c) => {
      const decision = evaluateRule(c.rule, mode, c.observed, { atLeast });
      expect(decision.status).toBe(c.status);
      expect(decision.detail).toContain(c.detail);
      expect(decision.plan).toEqual(mode === 'enforce' ? c.plan : null);
    });
  });

  it('says a firewall or file noncompliance is not remediated automatically in enforce mode only', () => {
    const off: Observation = { kind: 'firewall', state: { enabled: false, detail: '' } };
    const missing: Observation = { kind: 'file', sha256: null };
    const file: PolicyRule = { kind: 'file-present', path: '/etc/x', sha256: SHA };
    expect(evaluateRule({ kind: 'firewall-enabled' }, 'enforce', off, {}).detail).toContain(NOT_REMEDIATED);
    expect(evaluateRule(file, 'enforce', missing, {}).detail).toContain(NOT_REMEDIATED);
    expect(evaluateRule({ kind: 'firewall-enabled' }, 'audit', off, {}).detail).not.toContain(NOT_REMEDIATED);
    expect(evaluateRule(file, 'audit', missing, {}).detail).not.toContain(NOT_REMEDIATED);
  });

  it('reports an error for a minimum version when no package manager can compare versions', () => {
    const decision = evaluateRule(
      { kind: 'package-installed', name: 'clamav', minVersion: '1.0' },
      'enforce',
      { kind: 'package', installed: '0.9' },
      {},
    );
    expect(decision).toMatchObject({ status: 'error', plan: null });
  });

  it('reports an error when the observation does not belong to the rule', () => {
    const decision = evaluateRule({ kind: 'firewall-enabled' }, 'enforce', { kind: 'package', installed: null }, {});
    expect(decision.status).toBe('error');
  });

  it('keeps details on one line and bounded, whatever the machine printed', () => {
    const decision = evaluateRule(
      { kind: 'service-running', name: 'x' },
      'audit',
      service({ running: false, detail: `line one\nline two\u0000${'y'.repeat(5000)}` }),
      {},
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking none are left is the point.
    expect(decision.detail).not.toMatch(/[\u0000-\u001f]/);
    expect(decision.detail.length).toBeLessThanOrEqual(1000);
    expect(oneLine('a\r\n\tb')).toBe('a b');
  });
});

describe('antivirusFor', () => {
  it('picks the platform product for auto and keeps a named one', () => {
    expect(antivirusFor('auto', 'linux')).toBe('clamav');
    expect(antivirusFor('auto', 'win32')).toBe('defender');
    expect(antivirusFor('auto', 'darwin')).toBe('xprotect');
    expect(antivirusFor('auto', 'freebsd')).toBeNull();
    expect(antivirusFor('defender', 'linux')).toBe('defender');
  });
});

describe('describePlan', () => {
  it('names each remediation in a few words', () => {
    expect(describePlan({ action: 'install-package', name: 'clamav' })).toBe('install package clamav');
    expect(describePlan({ action: 'remove-package', name: 'telnet' })).toBe('remove package telnet');
    expect(describePlan({ action: 'start-service', name: 'ssh', start: true, enable: true })).toBe('start and enable service ssh');
    expect(describePlan({ action: 'start-service', name: 'ssh', start: false, enable: true })).toBe('enable service ssh');
    expect(describePlan({ action: 'ensure-antivirus', provider: 'clamav', maxSignatureAgeHours: 48 })).toBe('repair antivirus clamav');
  });
});
