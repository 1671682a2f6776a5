import {
  type AgentMessageBodies,
  BrierError,
  type HostPolicy,
  type PolicyMode,
  type PolicyRule,
  type SignedPolicyBundle,
  signPolicyBundle,
} from '@brier/protocol';
import type { Logger } from 'pino';
import type { Actor, AuditSink, WorkSigner } from '../rollouts/deployments-service.js';
import { bundleContentHash, bundleProblem, hostPoliciesOf, hostPolicyOf, nextSequence } from './bundles.js';
import { acceptEvents, acceptResults } from './compliance.js';
import { KeyedLock } from './keyed-lock.js';
import type {
  BundleRow,
  ComplianceRow,
  PoliciesStore,
  PolicyComplianceCounts,
  PolicyRow,
  PolicyTargets,
  RemediationRow,
  StatusCounts,
} from './policies-repository.js';

export interface PolicyInput {
  name: string;
  mode: PolicyMode;
  rules: PolicyRule[];
  targets: { hostIds?: string[] | undefined; groups?: string[] | undefined };
  /** Minutes between evaluations on the agent (default 15). */
  intervalMinutes?: number | undefined;
  /** Ask an approver to quarantine a host whose antivirus rule stays noncompliant this long (needs an antivirus rule). */
  quarantineAfterMinutes?: number | undefined;
}

export const DEFAULT_INTERVAL_MINUTES = 15;
/** A week: a policy-requested quarantine is for an antivirus that stays broken, not for a month-old one. */
export const MAX_QUARANTINE_AFTER_MINUTES = 7 * 24 * 60;
const MAX_TARGETS = 10_000;
const REBUNDLE_CHUNK = 500;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface PolicyDetail extends PolicyRow {
  compliance: {
    hosts: StatusCounts & { total: number };
    rules: Array<StatusCounts & { index: number; kind: PolicyRule['kind'] }>;
  };
}

export interface FleetComplianceItem {
  policy: { id: string; name: string; version: number; mode: PolicyMode };
  hosts: StatusCounts & { total: number };
}

export interface HostComplianceItem {
  policy: { id: string; name: string; version: number };
  rule: { index: number; kind: PolicyRule['kind'] };
  status: ComplianceRow['status'];
  detail: string;
  checkedAt: Date;
  sinceAt: Date;
}

export interface PoliciesServiceDeps {
  store: PoliciesStore;
  audit: AuditSink;
  /** The current work-signing key (bundles are signed with it, like assignments). */
  signing: () => WorkSigner;
  /** Pushes a signed bundle to a connected agent; false when the host is offline (it gets it on its next sync). */
  sendBundle: (hostId: string, signed: SignedPolicyBundle) => boolean;
  now: () => Date;
  logger?: Logger | undefined;
  /** Told after a compliance report was stored (policy-requested quarantine looks at it). */
  onComplianceRecorded?: ((hostId: string) => Promise<void>) | undefined;
}

const ZERO: StatusCounts = { compliant: 0, noncompliant: 0, remediated: 0, error: 0, unknown: 0 };
const total = (c: StatusCounts) => c.compliant + c.noncompliant + c.remediated + c.error + c.unknown;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Policies and the bundles signed from them. A bundle is what one host must keep true: every
 * policy targeting it (by id or by group), sorted by id, signed with the work key under a sequence
 * that only grows. Bundles are re-made after every change that can alter a host's set (a policy
 * created, replaced or deleted, a host's groups changed) and checked again at every agent sync, so
 * a change missed by a crash between two writes is caught up on the host's next connection.
 */
export function createPoliciesService(deps: PoliciesServiceDeps) {
  const { store, audit, now } = deps;
  const log = deps.logger?.child({ module: 'policies' });
  const lock = new KeyedLock();

  // ---------------------------------------------------------------- validation

  function normalize(input: PolicyInput): Omit<PolicyRow, 'id' | 'version' | 'createdBy' | 'createdAt' | 'updatedAt'> {
    const problems: string[] = [];
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (name.length === 0 || name.length > 200 || CONTROL.test(name))
      problems.push('name must be 1 to 200 characters without control characters');
    if (input.mode !== 'audit' && input.mode !== 'enforce') problems.push('mode must be audit or enforce');
    const rules = Array.isArray(input.rules) ? input.rules : [];
    if (rules.length === 0 || rules.length > 100) problems.push('rules must hold 1 to 100 rules');
    const interval = input.intervalMinutes ?? DEFAULT_INTERVAL_MINUTES;
    if (!Number.isInteger(interval) || interval < 1 || interval > 1440)
      problems.push('intervalMinutes must be a whole number from 1 to 1440');
    const after = input.quarantineAfterMinutes;
    if (after !== undefined) {
      if (!Number.isInteger(after) || after < 1 || after > MAX_QUARANTINE_AFTER_MINUTES)
        problems.push(`quarantineAfterMinutes must be a whole number from 1 to ${MAX_QUARANTINE_AFTER_MINUTES}`);
      if (!rules.some((r) => r?.kind === 'antivirus')) problems.push('quarantineAfterMinutes needs an antivirus rule');
    }
    const hostIds = [...new Set((input.targets?.hostIds ?? []).map((id) => (typeof id === 'string' ? id.toLowerCase() : '')))].sort();
    const groups = [...new Set(input.targets?.groups ?? [])].sort();
    if (hostIds.some((id) => !UUID.test(id))) problems.push('targets.hostIds must be host ids (UUIDs)');
    if (groups.some((g) => typeof g !== 'string' || g.length === 0 || g.length > 100 || CONTROL.test(g)))
      problems.push('targets.groups must be group names of 1 to 100 characters without control characters');
    if (hostIds.length > MAX_TARGETS || groups.length > MAX_TARGETS) problems.push(`at most ${MAX_TARGETS} host ids and groups`);
    if (problems.length > 0) throw new BrierError('bad_request', problems.join('; '), { details: { problems } });
    return {
      name,
      mode: input.mode,
      // Stored as the agent will read them: a plain JSON copy.
      rules: JSON.parse(JSON.stringify(rules)) as PolicyRule[],
      targets: { hostIds, groups },
      intervalMinutes: interval,
      quarantineAfterMinutes: after ?? null,
    };
  }

  /**
   * The rules must pass the very schema the agent checks bundles against (names and paths that
   * cannot become options or shell syntax): a trial bundle holding just this policy is signed, and
   * a refusal is the caller's bad request.
   */
  function checkWireShape(candidate: PolicyRow): void {
    try {
      signPolicyBundle(deps.signing(), {
        kind: 'policy-bundle',
        hostId: '00000000-0000-0000-0000-000000000000',
        sequence: 1,
        issuedAt: now().toISOString(),
        policies: [hostPolicyOf(candidate)],
      });
    } catch (err) {
      const message = err instanceof Error ? err.message.replace(/^policy bundle "\/policies\/0/, 'policy "') : 'invalid policy';
      throw new BrierError('bad_request', `the policy cannot be sent to agents: ${message}`, { cause: err });
    }
  }

  async function checkTargets(targets: PolicyTargets): Promise<void> {
    if (targets.hostIds.length === 0) return;
    const known = new Set(await store.knownHostIds(targets.hostIds));
    const unknownHostIds = targets.hostIds.filter((id) => !known.has(id));
    if (unknownHostIds.length > 0)
      throw new BrierError('bad_request', `unknown host ids: ${unknownHostIds.join(', ')}`, { details: { unknownHostIds } });
  }

  /** Refuses a change that would leave some host with a bundle too large to send. */
  async function checkBundlesFit(candidate: PolicyRow): Promise<void> {
    const hosts = await store.targetedHosts(candidate.targets);
    const problems: string[] = [];
    for (const part of chunks(hosts, REBUNDLE_CHUNK)) {
      const current = await store.policiesForHosts(part);
      for (const hostId of part) {
        const others = (current.get(hostId) ?? []).filter((p) => p.id !== candidate.id);
        const problem = bundleProblem(hostPoliciesOf([...others, candidate]));
        if (problem) problems.push(`host ${hostId} would get ${problem}`);
        if (problems.length >= 20) break;
      }
    }
    if (problems.length > 0) throw new BrierError('bad_request', problems.join('; '), { details: { problems } });
  }

  async function load(id: string): Promise<PolicyRow> {
    const row = await store.getPolicy(id);
    if (!row) throw new BrierError('not_found', 'no such policy', { details: { id } });
    return row;
  }

  // ---------------------------------------------------------------- bundles

  /**
   * Re-makes the bundles of these hosts: a host whose set of policies (or signing key) is unchanged
   * keeps its bundle; any other gets a new one, stored, then pushed when `push` and it is online.
   * `floor` forces a sequence above a value (an agent holding a higher one than the server knows).
   * Returns the hosts whose bundle was re-signed.
   */
  async function rebundle(hostIds: readonly string[], options: { push?: boolean; floor?: number } = {}): Promise<string[]> {
    const push = options.push ?? true;
    const done: string[] = [];
    for (const part of chunks([...new Set(hostIds)], REBUNDLE_CHUNK)) {
      await lock.run(part, async () => {
        const [policies, bundles] = await Promise.all([store.policiesForHosts(part), store.bundles(part)]);
        const at = now();
        const key = deps.signing();
        const rows: Omit<BundleRow, 'ackedSequence'>[] = [];
        for (const hostId of part) {
          const list = hostPoliciesOf(policies.get(hostId) ?? []);
          const hash = bundleContentHash(list);
          const previous = bundles.get(hostId);
          const floor = options.floor ?? 0;
          const sameKey = previous?.signed.keyCertificate.keyId === key.certificate.keyId;
          const unchanged = previous
            ? previous.contentHash === hash && sameKey && previous.sequence > floor
            : list.length === 0 && floor === 0;
          if (unchanged) continue;
          const problem = bundleProblem(list);
          if (problem) {
            // Changes are checked before they are stored; this only happens when several replicas raced.
            log?.error({ hostId, problem }, 'policy bundle too large; the host keeps its previous bundle');
            continue;
          }
          const sequence = nextSequence(previous?.sequence ?? 0, at, floor);
          const signed = signPolicyBundle(key, { kind: 'policy-bundle', hostId, sequence, issuedAt: at.toISOString(), policies: list });
          rows.push({ hostId, sequence, contentHash: hash, signed, issuedAt: at });
        }
        if (rows.length === 0) return;
        const saved = await store.saveBundles(rows);
        for (const row of rows) {
          if (!saved.has(row.hostId)) continue;
          done.push(row.hostId);
          if (push) deps.sendBundle(row.hostId, row.signed);
        }
      });
    }
    if (done.length > 0) log?.info({ hosts: done.length }, 'policy bundles signed');
    return done;
  }

  async function bundleOf(hostId: string): Promise<HostPolicy[]> {
    const stored = (await store.bundles([hostId])).get(hostId);
    return stored?.signed.document.policies ?? [];
  }

  // ---------------------------------------------------------------- commands

  async function create(actor: Actor, input: PolicyInput): Promise<PolicyRow> {
    const fields = normalize(input);
    const at = now();
    const candidate: PolicyRow = {
      ...fields,
      id: '00000000-0000-4000-8000-000000000000',
      version: 1,
      createdBy: actor.username,
      createdAt: at,
      updatedAt: at,
    };
    checkWireShape(candidate);
    if (await store.policyByName(fields.name)) throw new BrierError('conflict', 'a policy with that name exists');
    await checkTargets(fields.targets);
    await checkBundlesFit(candidate);
    const { id: _placeholder, ...row } = candidate;
    const created = await store.createPolicy(row);
    if (!created) throw new BrierError('conflict', 'a policy with that name exists');
    await audit.record({
      actor: actor.username,
      action: 'policy.create',
      target: created.id,
      detail: { name: created.name, mode: created.mode, version: created.version, rules: created.rules, targets: created.targets },
      at,
    });
    await rebundle(await store.targetedHosts(created.targets));
    return created;
  }

  async function replace(actor: Actor, id: string, input: PolicyInput): Promise<PolicyRow> {
    const current = await load(id);
    const fields = normalize(input);
    const at = now();
    const candidate: PolicyRow = { ...current, ...fields, version: current.version + 1, updatedAt: at };
    checkWireShape(candidate);
    const clash = await store.policyByName(fields.name);
    if (clash && clash.id !== id) throw new BrierError('conflict', 'a policy with that name exists');
    await checkTargets(fields.targets);
    await checkBundlesFit(candidate);
    const before = await store.targetedHosts(current.targets);
    let updated: PolicyRow | undefined;
    try {
      updated = await store.replacePolicy(id, current.version, {
        ...fields,
        version: candidate.version,
        updatedAt: at,
      });
    } catch (err) {
      if (await store.policyByName(fields.name)) throw new BrierError('conflict', 'a policy with that name exists', { cause: err });
      throw err;
    }
    if (!updated) throw new BrierError('conflict', 'the policy changed meanwhile; reload and try again', { details: { id } });
    await audit.record({
      actor: actor.username,
      action: 'policy.update',
      target: id,
      detail: { name: updated.name, mode: updated.mode, version: updated.version, rules: updated.rules, targets: updated.targets },
      at,
    });
    await rebundle([...before, ...(await store.targetedHosts(updated.targets))]);
    return updated;
  }

  async function remove(actor: Actor, id: string): Promise<void> {
    const current = await load(id);
    const before = await store.targetedHosts(current.targets);
    const at = now();
    const deleted = await store.deletePolicy(id, at);
    if (!deleted) throw new BrierError('not_found', 'no such policy', { details: { id } });
    await audit.record({
      actor: actor.username,
      action: 'policy.delete',
      target: id,
      detail: { name: deleted.name, version: deleted.version },
      at,
    });
    await rebundle(before);
  }

  // ---------------------------------------------------------------- reads

  function detailOf(row: PolicyRow, counts: PolicyComplianceCounts | undefined): PolicyDetail {
    const hosts = counts?.hosts ?? ZERO;
    return {
      ...row,
      compliance: {
        hosts: { ...hosts, total: total(hosts) },
        rules: row.rules.map((r, index) => ({ index, kind: r.kind, ...(counts?.rules[index] ?? ZERO) })),
      },
    };
  }

  async function get(id: string): Promise<PolicyDetail> {
    const row = await load(id);
    const [counts] = await store.complianceCounts(id);
    return detailOf(row, counts);
  }

  async function fleetCompliance(): Promise<FleetComplianceItem[]> {
    const [rows, counts] = await Promise.all([store.listPolicies(), store.complianceCounts()]);
    const byPolicy = new Map(counts.map((c) => [c.policyId, c]));
    return rows.map((p) => {
      const hosts = byPolicy.get(p.id)?.hosts ?? ZERO;
      return { policy: { id: p.id, name: p.name, version: p.version, mode: p.mode }, hosts: { ...hosts, total: total(hosts) } };
    });
  }

  async function hostCompliance(hostId: string): Promise<HostComplianceItem[]> {
    return (await store.hostCompliance(hostId)).map((r) => ({
      policy: { id: r.policyId, name: r.policyName, version: r.policyVersion },
      rule: { index: r.rule, kind: r.kind },
      status: r.status,
      detail: r.detail,
      checkedAt: r.checkedAt,
      sinceAt: r.sinceAt,
    }));
  }

  function remediations(hostId: string, limit: number, offset: number): Promise<{ items: RemediationRow[]; total: number }> {
    return store.remediations(hostId, limit, offset);
  }

  // ---------------------------------------------------------------- agents

  /**
   * After an agent authenticated: its bundle is brought up to date (not pushed: the caller answers
   * the sync), then returned when the agent holds an older one. An agent holding a sequence above
   * the server's (a database restored from backup) gets a fresh bundle above it, since it would
   * refuse anything lower.
   */
  async function onSync(hostId: string, held: AgentMessageBodies['desired-state.sync']): Promise<SignedPolicyBundle | undefined> {
    await rebundle([hostId], { push: false });
    let stored = (await store.bundles([hostId])).get(hostId);
    if (held.bundleSequence > (stored?.sequence ?? 0)) {
      await rebundle([hostId], { push: false, floor: held.bundleSequence });
      stored = (await store.bundles([hostId])).get(hostId);
    }
    if (!stored) return undefined;
    if (held.bundleSequence < stored.sequence) return stored.signed;
    if (stored.ackedSequence !== stored.sequence) await store.ackBundle(hostId, stored.sequence);
    return undefined;
  }

  async function onCompliance(hostId: string, report: AgentMessageBodies['compliance.report']): Promise<void> {
    const stored = (await store.bundles([hostId])).get(hostId);
    const policies = stored?.signed.document.policies ?? [];
    const { rows, ignored } = acceptResults(policies, report.results, now());
    if (ignored > 0) log?.warn({ hostId, ignored }, 'compliance results for policies the host does not hold were ignored');
    if (rows.length > 0) await store.upsertCompliance(hostId, rows);
    if (stored && report.bundleSequence === stored.sequence && stored.ackedSequence !== stored.sequence)
      await store.ackBundle(hostId, stored.sequence);
    if (rows.length === 0 || !deps.onComplianceRecorded) return;
    try {
      await deps.onComplianceRecorded(hostId);
    } catch (err) {
      // The report itself is stored; what follows from it is retried with the next report.
      log?.error({ err, hostId }, 'cannot act on a compliance report');
    }
  }

  async function onRemediations(hostId: string, report: AgentMessageBodies['remediation.events']): Promise<void> {
    const { events, ignored } = acceptEvents(await bundleOf(hostId), report.events, now());
    if (ignored > 0) log?.warn({ hostId, ignored }, 'remediation events for policies the host does not hold were ignored');
    if (events.length > 0) await store.insertRemediations(hostId, events, now());
  }

  return {
    create,
    replace,
    remove,
    list: () => store.listPolicies(),
    get,
    fleetCompliance,
    hostCompliance,
    remediations,
    rebundle,
    /** A host's groups changed: its set of policies may have. */
    onGroupsChanged: async (hostId: string): Promise<void> => {
      await rebundle([hostId]);
    },
    onSync,
    onCompliance,
    onRemediations,
  };
}

export type PoliciesService = ReturnType<typeof createPoliciesService>;
