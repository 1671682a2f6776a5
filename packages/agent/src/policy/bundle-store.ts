import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalJson, type DesiredStateRefusal, type PolicyBundle, type SignedPolicyBundle, verifyPolicyBundle } from '@brier/protocol';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../state/atomic-write.js';

/** The signed bundle the agent enforces, as received, in the state directory. */
export const BUNDLE_FILE = 'policy-bundle.json';

/**
 * Why a bundle was not taken: the signature checks' reasons, plus `older_sequence` (a replay of an
 * earlier bundle), `conflicting_sequence` (the held sequence with a different document) and
 * `not_stored` (the state directory could not be written, so nothing changed).
 */
export type BundleRefusal = DesiredStateRefusal | 'older_sequence' | 'conflicting_sequence' | 'not_stored';

export type BundleOutcome =
  | { outcome: 'accepted'; bundle: PolicyBundle }
  | { outcome: 'unchanged'; bundle: PolicyBundle }
  | { outcome: 'refused'; reason: BundleRefusal };

export interface BundleStoreDeps {
  /** The agent's state directory. */
  dir: string;
  /** Whose bundles these are and the server identity pinned at enrolment. */
  identity: { hostId: string; serverPublicKey: string };
  logger: Logger;
  now?: () => Date;
}

interface Held {
  signed: SignedPolicyBundle;
  document: PolicyBundle;
  /** canonicalJson(document), to tell a resend of the held bundle from a different one with its sequence. */
  canonical: string;
}

/** A time inside the certificate's validity window, so only its signatures are judged (see `load`). */
function withinCertificate(raw: unknown): Date | undefined {
  const notBefore = (raw as { keyCertificate?: { notBefore?: unknown } } | null)?.keyCertificate?.notBefore;
  if (typeof notBefore !== 'string') return undefined;
  const ms = Date.parse(notBefore);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/**
 * Holds the one policy bundle this host enforces. A bundle received from the server is taken only
 * when it is signed by a work key the pinned identity certified (valid now), is for this host, and
 * its sequence is not lower than the held one; then it is written atomically before it is used, so
 * a restart enforces the same thing. A refusal is logged and changes nothing.
 */
export class BundleStore {
  private held: Held | undefined;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly file: string;

  constructor(private readonly deps: BundleStoreDeps) {
    this.log = deps.logger.child({ module: 'policy-bundle' });
    this.now = deps.now ?? (() => new Date());
    this.file = path.join(deps.dir, BUNDLE_FILE);
  }

  /** The bundle being enforced, if any. */
  get bundle(): PolicyBundle | undefined {
    return this.held?.document;
  }

  /** The held bundle's sequence; 0 when there is none (what 'desired-state.sync' reports). */
  get sequence(): number {
    return this.held?.document.sequence ?? 0;
  }

  /**
   * Reads the stored bundle at start. Its signatures, host and certificate chain are checked again
   * (the file could have been replaced), but NOT the certificate's expiry: a laptop offline for
   * longer than the work key's validity must keep enforcing the last policy it was given, and the
   * bundle was checked against the clock when it arrived. A file that fails is ignored (logged),
   * never deleted, so it stays for inspection; the next bundle from the server replaces it.
   */
  load(): PolicyBundle | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err }, 'cannot read the stored policy bundle; ignoring it');
      return undefined;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.log.warn({ file: this.file }, 'stored policy bundle is not JSON; ignoring it');
      return undefined;
    }
    const verdict = verifyPolicyBundle(raw, {
      pinnedServerPublicKey: this.deps.identity.serverPublicKey,
      hostId: this.deps.identity.hostId,
      now: withinCertificate(raw) ?? this.now(),
    });
    if (!verdict.ok) {
      this.log.warn({ file: this.file, reason: verdict.reason }, 'stored policy bundle failed verification; ignoring it');
      return undefined;
    }
    this.held = { signed: raw as SignedPolicyBundle, document: verdict.document, canonical: canonicalJson(verdict.document) };
    this.log.info({ sequence: verdict.document.sequence, policies: verdict.document.policies.length }, 'loaded the stored policy bundle');
    return verdict.document;
  }

  /** Takes a bundle from the server if it is genuine and not older than the held one. Never throws. */
  accept(signed: unknown): BundleOutcome {
    const verdict = verifyPolicyBundle(signed, {
      pinnedServerPublicKey: this.deps.identity.serverPublicKey,
      hostId: this.deps.identity.hostId,
      now: this.now(),
    });
    if (!verdict.ok) return this.refuse(verdict.reason);
    const document = verdict.document;
    const canonical = canonicalJson(document);
    const held = this.held;
    if (held) {
      if (document.sequence < held.document.sequence) return this.refuse('older_sequence', document.sequence);
      if (document.sequence === held.document.sequence) {
        if (canonical === held.canonical) return { outcome: 'unchanged', bundle: held.document };
        return this.refuse('conflicting_sequence', document.sequence);
      }
    }
    try {
      mkdirSync(this.deps.dir, { recursive: true, mode: 0o700 });
      writeFileAtomic(this.file, `${JSON.stringify(signed)}\n`);
    } catch (err) {
      this.log.error({ err, sequence: document.sequence }, 'cannot store the policy bundle; keeping the one held');
      return { outcome: 'refused', reason: 'not_stored' };
    }
    this.held = { signed: signed as SignedPolicyBundle, document, canonical };
    this.log.info({ sequence: document.sequence, policies: document.policies.length }, 'policy bundle accepted');
    return { outcome: 'accepted', bundle: document };
  }

  private refuse(reason: BundleRefusal, sequence?: number): BundleOutcome {
    this.log.warn({ reason, sequence, held: this.sequence }, 'policy bundle refused');
    return { outcome: 'refused', reason };
  }
}
