import type { PolicyMode, PolicyRule } from '@brier/protocol';
import type { AntivirusHealth, FirewallState, ServiceState } from './ports.js';

/**
 * Pure decisions: given a rule, its policy's mode and what the ports observed on the machine, say
 * whether the rule holds (with a one-line detail for the compliance report) and, in enforce mode,
 * what would make it hold. Nothing here touches the machine; the engine observes and acts.
 */

export type AntivirusName = 'clamav' | 'defender' | 'xprotect';

/** Signatures older than this are unhealthy when the rule names no maximum (hours). */
export const DEFAULT_MAX_SIGNATURE_AGE_HOURS = 48;
/** The longest detail a report carries (RuleResult.detail allows 1000). */
export const MAX_DETAIL_CHARS = 1000;
export const NOT_REMEDIATED = 'not remediated automatically';

/** The provider an antivirus rule means on this platform: 'auto' picks the platform's own, null when it has none. */
export function antivirusFor(provider: AntivirusName | 'auto', platform: NodeJS.Platform): AntivirusName | null {
  if (provider !== 'auto') return provider;
  if (platform === 'linux') return 'clamav';
  if (platform === 'win32') return 'defender';
  if (platform === 'darwin') return 'xprotect';
  return null;
}

/** What the engine read from the machine for one rule, or why it could not. */
export type Observation =
  | { kind: 'package'; installed: string | null }
  | { kind: 'service'; state: ServiceState }
  | { kind: 'antivirus'; health: AntivirusHealth }
  | { kind: 'firewall'; state: FirewallState }
  | { kind: 'file'; sha256: string | null }
  | { kind: 'failed'; detail: string };

export type RemediationPlan =
  | { action: 'install-package'; name: string }
  | { action: 'remove-package'; name: string }
  /** `start`: it is stopped; `enable`: it does not start at boot (and the rule wants it to). */
  | { action: 'start-service'; name: string; start: boolean; enable: boolean }
  | { action: 'ensure-antivirus'; provider: AntivirusName; maxSignatureAgeHours: number };

export interface RuleDecision {
  status: 'compliant' | 'noncompliant' | 'error';
  detail: string;
  /** What to do about it; only in enforce mode, only when noncompliant and something can be done. */
  plan: RemediationPlan | null;
}

export interface EvaluateContext {
  /** The package manager's ordering (PackageControl.atLeast); needed only for minVersion. */
  atLeast?: (installed: string, minimum: string) => boolean;
}

/** One line for a report: control characters become spaces, and it is cut to MAX_DETAIL_CHARS. */
export function oneLine(text: string, max = MAX_DETAIL_CHARS): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The remediation as a short phrase for events and logs, e.g. "install package clamav". */
export function describePlan(plan: RemediationPlan): string {
  switch (plan.action) {
    case 'install-package':
      return `install package ${plan.name}`;
    case 'remove-package':
      return `remove package ${plan.name}`;
    case 'start-service':
      return `${[plan.start ? 'start' : '', plan.enable ? 'enable' : ''].filter(Boolean).join(' and ')} service ${plan.name}`;
    case 'ensure-antivirus':
      return `repair antivirus ${plan.provider}`;
  }
}

const compliant = (detail: string): RuleDecision => ({ status: 'compliant', detail: oneLine(detail), plan: null });
const failed = (detail: string): RuleDecision => ({ status: 'error', detail: oneLine(detail), plan: null });

function noncompliant(mode: PolicyMode, detail: string, plan: RemediationPlan | null): RuleDecision {
  return { status: 'noncompliant', detail: oneLine(detail), plan: mode === 'enforce' ? plan : null };
}

/** A noncompliance the agent never repairs by itself (a firewall, a file's content): it only says so. */
function unrepaired(mode: PolicyMode, detail: string): RuleDecision {
  return noncompliant(mode, mode === 'enforce' ? `${detail}; ${NOT_REMEDIATED}` : detail, null);
}

function mismatch(rule: PolicyRule, observed: Observation): RuleDecision {
  return failed(`internal error: a ${observed.kind} observation for a ${rule.kind} rule`);
}

export function evaluateRule(rule: PolicyRule, mode: PolicyMode, observed: Observation, context: EvaluateContext): RuleDecision {
  if (observed.kind === 'failed') return failed(observed.detail);
  switch (rule.kind) {
    case 'package-installed': {
      if (observed.kind !== 'package') return mismatch(rule, observed);
      const plan: RemediationPlan = { action: 'install-package', name: rule.name };
      if (observed.installed === null) return noncompliant(mode, `${rule.name} is not installed`, plan);
      if (rule.minVersion === undefined) return compliant(`${rule.name} ${observed.installed} is installed`);
      if (!context.atLeast) return failed(`cannot compare ${rule.name} versions: no package manager on this host`);
      let enough: boolean;
      try {
        enough = context.atLeast(observed.installed, rule.minVersion);
      } catch (err) {
        return failed(`cannot compare ${rule.name} ${observed.installed} with ${rule.minVersion}: ${(err as Error).message}`);
      }
      return enough
        ? compliant(`${rule.name} ${observed.installed} is installed (at least ${rule.minVersion})`)
        : noncompliant(mode, `${rule.name} ${observed.installed} is installed, older than ${rule.minVersion}`, plan);
    }
    case 'package-absent': {
      if (observed.kind !== 'package') return mismatch(rule, observed);
      if (observed.installed === null) return compliant(`${rule.name} is not installed`);
      return noncompliant(mode, `${rule.name} ${observed.installed} is installed`, { action: 'remove-package', name: rule.name });
    }
    case 'service-running': {
      if (observed.kind !== 'service') return mismatch(rule, observed);
      const { state } = observed;
      const wantEnabled = rule.enable ?? true;
      const how = state.detail ? ` (${state.detail})` : '';
      // Starting a service that is not there cannot work; installing it is a package rule's job.
      if (!state.exists) return noncompliant(mode, `service ${rule.name} does not exist on this host${how}`, null);
      const notAtBoot = wantEnabled && state.enabled === false;
      if (!state.running) {
        return noncompliant(mode, `service ${rule.name} is not running${how}`, {
          action: 'start-service',
          name: rule.name,
          start: true,
          enable: notAtBoot,
        });
      }
      if (notAtBoot) {
        return noncompliant(mode, `service ${rule.name} is running but does not start at boot${how}`, {
          action: 'start-service',
          name: rule.name,
          start: false,
          enable: true,
        });
      }
      return compliant(`service ${rule.name} is running${how}`);
    }
    case 'antivirus': {
      if (observed.kind !== 'antivirus') return mismatch(rule, observed);
      const { health } = observed;
      const maxAge = rule.maxSignatureAgeHours ?? DEFAULT_MAX_SIGNATURE_AGE_HOURS;
      const problems: string[] = [];
      if (!health.installed) problems.push('not installed');
      else {
        if (!health.running) problems.push('not running');
        if (health.signatureAgeHours === null) problems.push('signature age unknown');
        else if (health.signatureAgeHours > maxAge)
          problems.push(`signatures ${Math.round(health.signatureAgeHours)} h old (at most ${maxAge} h)`);
      }
      const how = health.detail ? ` (${health.detail})` : '';
      if (problems.length === 0) {
        const age = health.signatureAgeHours === null ? '' : `, signatures ${Math.round(health.signatureAgeHours)} h old`;
        return compliant(`${health.provider}: running${age}${how}`);
      }
      return noncompliant(mode, `${health.provider}: ${problems.join(', ')}${how}`, {
        action: 'ensure-antivirus',
        provider: health.provider,
        maxSignatureAgeHours: maxAge,
      });
    }
    case 'firewall-enabled': {
      if (observed.kind !== 'firewall') return mismatch(rule, observed);
      const how = observed.state.detail ? ` (${observed.state.detail})` : '';
      return observed.state.enabled ? compliant(`the firewall is on${how}`) : unrepaired(mode, `the firewall is off${how}`);
    }
    case 'file-present': {
      if (observed.kind !== 'file') return mismatch(rule, observed);
      if (observed.sha256 === rule.sha256) return compliant(`${rule.path} has the expected sha256`);
      if (observed.sha256 === null) return unrepaired(mode, `${rule.path} does not exist`);
      return unrepaired(mode, `${rule.path} has sha256 ${observed.sha256.slice(0, 12)}…, expected ${rule.sha256.slice(0, 12)}…`);
    }
  }
}
