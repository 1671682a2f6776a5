import { createHash } from 'node:crypto';
import { canonicalJson, type HostPolicy, MAX_FRAME_BYTES } from '@brier/protocol';
import type { PolicyRow } from './policies-repository.js';

/** The most policies one bundle may carry (PolicyBundle's `policies` maxItems). */
export const MAX_POLICIES_PER_HOST = 50;

/**
 * The most bytes of policies (as JSON) one bundle may carry: the frame limit less room for the
 * envelope, the work-key certificate and the signature, so a bundle always fits one frame.
 */
export const MAX_BUNDLE_POLICY_BYTES = MAX_FRAME_BYTES - 32 * 1024;

/** A policy as a host receives it: what the agent needs to evaluate, nothing about targeting. */
export function hostPolicyOf(row: PolicyRow): HostPolicy {
  // The JSON round trip drops absent optional fields, which canonical JSON refuses as undefined.
  return JSON.parse(
    JSON.stringify({
      id: row.id,
      name: row.name,
      version: row.version,
      mode: row.mode,
      rules: row.rules,
      intervalMinutes: row.intervalMinutes,
    }),
  ) as HostPolicy;
}

/** Sorted by id, so the same set of policies always makes the same bundle and hash. */
export function hostPoliciesOf(rows: readonly PolicyRow[]): HostPolicy[] {
  return [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(hostPolicyOf);
}

/** sha256 (hex) of the canonical JSON of a host's policies: equal sets hash alike, whatever the key order. */
export function bundleContentHash(policies: readonly HostPolicy[]): string {
  return createHash('sha256').update(canonicalJson(policies)).digest('hex');
}

/**
 * The next sequence of a per-host document: above the previous one, and at least the clock (ms),
 * so sequences keep growing across database restores as long as the clock does.
 */
export function nextSequence(previous: number, at: Date, floor = 0): number {
  return Math.max(previous + 1, at.getTime(), floor + 1);
}

/** Why a host's set of policies cannot be sent as one bundle, or undefined when it can. */
export function bundleProblem(policies: readonly HostPolicy[]): string | undefined {
  if (policies.length > MAX_POLICIES_PER_HOST) return `${policies.length} policies (at most ${MAX_POLICIES_PER_HOST} per host)`;
  const bytes = Buffer.byteLength(JSON.stringify(policies));
  if (bytes > MAX_BUNDLE_POLICY_BYTES) return `${bytes} bytes of policies (at most ${MAX_BUNDLE_POLICY_BYTES} per host)`;
  return undefined;
}
