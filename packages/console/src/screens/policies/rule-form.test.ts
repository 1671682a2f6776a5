import { describe, expect, it } from 'vitest';
import {
  describeRule,
  emptyRule,
  formToPolicy,
  formToRule,
  newPolicyForm,
  type PolicyRule,
  policyToForm,
  RULE_KINDS,
  type RuleForm,
  ruleToForm,
} from './rule-form';

const SHA = 'a'.repeat(64);

const EVERY_KIND: PolicyRule[] = [
  { kind: 'package-installed', name: 'openssl', minVersion: '3.0.11-1~deb12u2' },
  { kind: 'package-installed', name: 'curl' },
  { kind: 'package-absent', name: 'telnetd' },
  { kind: 'service-running', name: 'sshd.service' },
  { kind: 'service-running', name: 'cron', enable: false },
  { kind: 'antivirus', provider: 'clamav', maxSignatureAgeHours: 24 },
  { kind: 'antivirus', provider: 'auto' },
  { kind: 'firewall-enabled' },
  { kind: 'file-present', path: '/etc/ssh/sshd_config', sha256: SHA },
  { kind: 'file-present', path: 'C:\\Windows\\System32\\drivers\\etc\\hosts', sha256: SHA },
];

describe('rule form <-> rule', () => {
  it('round-trips a rule of every kind the protocol defines', () => {
    expect(new Set(EVERY_KIND.map((r) => r.kind))).toEqual(new Set(RULE_KINDS.map((k) => k.kind)));
    for (const rule of EVERY_KIND) expect(formToRule(ruleToForm(rule)), rule.kind).toEqual({ ok: true, value: rule });
  });

  it('writes enable only when it is off (the agent defaults it on)', () => {
    expect(formToRule(ruleToForm({ kind: 'service-running', name: 'x', enable: true }))).toEqual({
      ok: true,
      value: { kind: 'service-running', name: 'x' },
    });
  });

  it('trims names and versions, lower-cases the digest, keeps paths verbatim', () => {
    expect(formToRule({ ...emptyRule('file-present'), path: ' /etc/hosts', sha256: SHA }).ok).toBe(false);
    const form: RuleForm = { ...emptyRule('file-present'), path: '/etc/hosts', sha256: ` ${'AB'.repeat(32)} ` };
    expect(formToRule(form)).toEqual({ ok: true, value: { kind: 'file-present', path: '/etc/hosts', sha256: 'ab'.repeat(32) } });
    expect(formToRule({ ...emptyRule(), name: ' nginx ', minVersion: ' ' })).toEqual({
      ok: true,
      value: { kind: 'package-installed', name: 'nginx' },
    });
  });

  it('refuses names that could become options or shell syntax, and other bad fields', () => {
    const bad: RuleForm[] = [
      { ...emptyRule('package-installed'), name: '' },
      { ...emptyRule('package-installed'), name: '--force-yes' },
      { ...emptyRule('package-installed'), name: 'a;rm -rf /' },
      { ...emptyRule('package-installed'), name: 'x'.repeat(257) },
      { ...emptyRule('package-installed'), name: 'ok', minVersion: '1.0 beta' },
      { ...emptyRule('package-absent'), name: '$(reboot)' },
      { ...emptyRule('service-running'), name: 'ssh\u0000d' },
      { ...emptyRule('antivirus'), maxSignatureAgeHours: '0' },
      { ...emptyRule('antivirus'), maxSignatureAgeHours: '8761' },
      { ...emptyRule('antivirus'), maxSignatureAgeHours: '1.5' },
      { ...emptyRule('antivirus'), provider: 'norton' as RuleForm['provider'] },
      { ...emptyRule('file-present'), path: 'etc/passwd', sha256: SHA },
      { ...emptyRule('file-present'), path: '/etc/../shadow', sha256: SHA },
      { ...emptyRule('file-present'), path: '/etc/x\ny', sha256: SHA },
      { ...emptyRule('file-present'), path: '/etc/hosts', sha256: 'g'.repeat(64) },
      { ...emptyRule('file-present'), path: '/etc/hosts', sha256: 'a'.repeat(63) },
    ];
    for (const form of bad) {
      const r = formToRule(form);
      expect(r.ok, JSON.stringify(form)).toBe(false);
      if (!r.ok) expect(r.problems.length).toBeGreaterThan(0);
    }
  });

  it('describes each kind in words', () => {
    expect(EVERY_KIND.map(describeRule)).toEqual([
      'openssl installed, version ≥ 3.0.11-1~deb12u2',
      'curl installed',
      'telnetd not installed',
      'service sshd.service running and enabled at boot',
      'service cron running',
      'antivirus (clamav) healthy, signatures at most 24 h old',
      'antivirus (auto) healthy, signatures at most 48 h old',
      'firewall enabled',
      `/etc/ssh/sshd_config present with SHA-256 ${SHA}`,
      `C:\\Windows\\System32\\drivers\\etc\\hosts present with SHA-256 ${SHA}`,
    ]);
  });
});

describe('policy form <-> body', () => {
  const policy = {
    name: 'Baseline',
    mode: 'enforce' as const,
    intervalMinutes: 30,
    quarantineAfterMinutes: 120,
    targets: { hostIds: ['11111111-1111-4111-8111-111111111111'], groups: ['web'] },
    rules: EVERY_KIND,
  };

  it('round-trips a stored policy into the body PUT takes', () => {
    expect(formToPolicy(policyToForm(policy))).toEqual({
      ok: true,
      value: {
        name: 'Baseline',
        mode: 'enforce',
        intervalMinutes: 30,
        quarantineAfterMinutes: 120,
        targets: policy.targets,
        rules: EVERY_KIND.map((r) => (r.kind === 'service-running' && r.enable !== false ? { kind: r.kind, name: r.name } : r)),
      },
    });
  });

  it('leaves quarantineAfterMinutes out when empty (which clears it on PUT)', () => {
    const r = formToPolicy({ ...policyToForm({ ...policy, quarantineAfterMinutes: null }), groups: [' web ', 'web', ''] });
    expect(r.ok && 'quarantineAfterMinutes' in r.value).toBe(false);
    expect(r.ok && r.value.targets.groups).toEqual(['web']);
  });

  it('collects every problem, numbering rules from 1', () => {
    const form = {
      ...newPolicyForm(),
      name: '  ',
      intervalMinutes: '0',
      quarantineAfterMinutes: '30',
      rules: [emptyRule('firewall-enabled'), { ...emptyRule('package-absent'), name: '-x' }],
    };
    const r = formToPolicy(form);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems).toEqual([
        'Name must be 1 to 200 characters without control characters',
        'Interval must be a whole number of minutes from 1 to 1440',
        'Rule 2: Package name must start with a letter or digit and hold only letters, digits and . _ + @ : ~ -',
        'Quarantine after needs an antivirus rule',
      ]);
    expect(formToPolicy({ ...newPolicyForm(), name: 'x', rules: [] }).ok).toBe(false);
    expect(formToPolicy({ ...newPolicyForm(), name: 'x', quarantineAfterMinutes: '99999', rules: [emptyRule('antivirus')] }).ok).toBe(
      false,
    );
  });
});
