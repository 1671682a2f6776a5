import type { HostPolicy, RemediationEvent, RuleResult } from '@brier/protocol';
import type { ComplianceWrite } from './policies-repository.js';

/**
 * What of an agent's report the server keeps. Identity comes from the connection, but the content
 * is the agent's word: a result is kept only when it names a policy of the bundle the server signed
 * for that host, at that version, a rule index inside it, and that rule's kind. Anything else (a
 * forged report, a result for a policy the host no longer has, a stale version) is dropped, so it
 * cannot pollute compliance of policies or hosts it does not belong to.
 */
export interface AcceptedResults {
  rows: ComplianceWrite[];
  /** Results dropped because the host's bundle does not hold them. */
  ignored: number;
}

/** Instants from the agent's clock: one in the future is clamped to the server's now. */
function notAfter(iso: string, now: Date): Date {
  const t = Date.parse(iso);
  return Number.isFinite(t) && t <= now.getTime() ? new Date(t) : now;
}

export function acceptResults(bundle: readonly HostPolicy[], results: readonly RuleResult[], now: Date): AcceptedResults {
  const byId = new Map(bundle.map((p) => [p.id, p]));
  // Last one wins for a repeated (policy, rule): one statement may not upsert the same row twice.
  const kept = new Map<string, ComplianceWrite>();
  let ignored = 0;
  for (const r of results) {
    const policy = byId.get(r.policyId);
    if (!policy || policy.version !== r.policyVersion || policy.rules[r.rule]?.kind !== r.kind) {
      ignored += 1;
      continue;
    }
    const key = `${r.policyId}/${r.rule}`;
    if (kept.has(key)) ignored += 1;
    kept.set(key, {
      policyId: r.policyId,
      policyVersion: r.policyVersion,
      rule: r.rule,
      kind: r.kind,
      status: r.status,
      detail: r.detail,
      checkedAt: notAfter(r.checkedAt, now),
    });
  }
  return { rows: [...kept.values()], ignored };
}

/**
 * Remediation events are kept when they name a policy of the host's bundle, at its version or an
 * earlier one: an agent may report what it did under the previous version just after an update
 * (the rules of that version are gone, so the rule index is not checked beyond the wire's bound).
 */
export function acceptEvents(
  bundle: readonly HostPolicy[],
  events: readonly RemediationEvent[],
  now: Date,
): { events: RemediationEvent[]; ignored: number } {
  const byId = new Map(bundle.map((p) => [p.id, p]));
  const kept: RemediationEvent[] = [];
  for (const e of events) {
    const policy = byId.get(e.policyId);
    if (!policy || e.policyVersion > policy.version) continue;
    kept.push({ ...e, at: notAfter(e.at, now).toISOString() });
  }
  return { events: kept, ignored: events.length - kept.length };
}
