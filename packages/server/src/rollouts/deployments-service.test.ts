import { randomUUID } from 'node:crypto';
import {
  type AgentMessageBodies,
  BrierError,
  certifyWorkKey,
  generateKeyPair,
  importPrivateKey,
  type SignedAssignment,
  signAssignment,
  verifySignedAssignment,
} from '@brier/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { identityFromPem, type ServerIdentity } from '../auth/server-identity.js';
import { type Database, openDatabase } from '../store/db.js';
import { createStores, type Stores } from '../store/index.js';
import { assignments } from '../store/schema.js';
import { type Actor, type CreateDeploymentInput, createDeploymentsService, type WorkSigner } from './deployments-service.js';

const START = new Date('2026-11-27T10:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let database: Database;
let stores: Stores;
let identity: ServerIdentity;
let signer: WorkSigner;
let n = 0;

beforeAll(async () => {
  database = await openDatabase({});
  stores = createStores(database.db);
  identity = identityFromPem(generateKeyPair().privateKeyPem);
  const work = generateKeyPair();
  signer = {
    privateKey: importPrivateKey(work.privateKeyPem),
    certificate: certifyWorkKey(
      identity.privateKey,
      work.publicKey,
      new Date(START.getTime() - HOUR),
      new Date(START.getTime() + 365 * 24 * HOUR),
    ),
  };
});
afterAll(async () => {
  await database?.close();
});

function user(role: Actor['role'], username = `${role}-${++n}`): Actor {
  return { id: randomUUID(), username, role };
}

/** A harness: a fake clock, a captured `offer`, a set of connected hosts, and a service on the shared database. */
function harness() {
  const clock = { now: new Date(START) };
  const online = new Set<string>();
  const offers: { hostId: string; signed: SignedAssignment }[] = [];
  const build = () =>
    createDeploymentsService({
      store: stores.deployments,
      audit: stores.audit,
      signing: () => signer,
      offer: (hostId, signed) => {
        if (!online.has(hostId)) return false;
        offers.push({ hostId, signed });
        return true;
      },
      now: () => new Date(clock.now),
      config: { approvalHostThreshold: 50, assignmentTtlHours: 72 },
    });
  return {
    clock,
    online,
    offers,
    service: build(),
    build,
    advance(ms: number) {
      clock.now = new Date(clock.now.getTime() + ms);
    },
  };
}

async function newHosts(count: number, groups: string[] = [], status: 'approved' | 'pending' | 'revoked' = 'approved') {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const h = await stores.hosts.create({
      hostname: `h${++n}`,
      publicKey: `pk-${n}-${randomUUID()}`,
      status,
      enrollmentTokenId: null,
      at: START,
    });
    if (groups.length > 0) await stores.deployments.setHostGroups(h.id, groups);
    ids.push(h.id);
  }
  return ids;
}

function status(
  assignmentId: string,
  state: AgentMessageBodies['assignment.status']['state'],
  extra: Partial<AgentMessageBodies['assignment.status']> = {},
) {
  return { assignmentId, state, ...extra };
}

function succeed(signed: SignedAssignment, version = '2.0-1') {
  return status(signed.assignment.assignmentId, 'succeeded', {
    installed: signed.payload.packages.map((p) => ({ name: p.name, version: p.version ?? version })),
    rebootRequired: false,
  });
}

const operator = () => user('operator');

function basic(hostIds: string[], extra: Partial<CreateDeploymentInput> = {}): CreateDeploymentInput {
  return { name: `deploy ${++n}`, packages: [{ name: 'openssl', version: '3.0.2-1' }], targets: { hostIds }, ...extra };
}

async function rejection(p: Promise<unknown>): Promise<BrierError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BrierError) return err;
    throw err;
  }
  throw new Error('expected a BrierError');
}

describe('the deployments service', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });

  it('approves a small, non-critical deployment by itself and starts it on the next tick', async () => {
    const hosts = await newHosts(2);
    hosts.forEach((id) => {
      h.online.add(id);
    });
    const d = await h.service.create(operator(), basic(hosts));
    expect(d.state).toBe('approved');
    expect(d.stateReason).toMatch(/no second approval needed/);
    await h.service.tick();
    const after = await h.service.get(d.id);
    expect(after.state).toBe('running');
    expect(h.offers.map((o) => o.hostId).sort()).toEqual([...hosts].sort());
    expect(after.hosts.every((x) => x.state === 'offered')).toBe(true);
  });

  it('requires a second approver for a critical deployment and refuses self-approval and non-approvers', async () => {
    const hosts = await newHosts(1);
    const author = user('admin');
    const d = await h.service.create(author, basic(hosts, { critical: true }));
    expect(d.state).toBe('awaiting_approval');
    const self = await rejection(h.service.approve(author, d.id));
    expect(self.code).toBe('forbidden');
    expect(self.details?.reason).toBe('self_approval');
    const op = await rejection(h.service.approve(operator(), d.id));
    expect(op.code).toBe('forbidden');
    expect(op.details?.reason).toBe('approver_role_required');
    await h.service.tick();
    expect((await h.service.get(d.id)).state).toBe('awaiting_approval');
    const approver = user('approver');
    const approved = await h.service.approve(approver, d.id);
    expect(approved.state).toBe('approved');
    expect(approved.approvedBy).toEqual({ id: approver.id, username: approver.username });
    const again = await rejection(h.service.approve(user('approver'), d.id));
    expect(again.code).toBe('conflict');
    const audit = await stores.audit.list({ limit: 200, offset: 0 });
    expect(audit.items.some((e) => e.action === 'deployment.approve' && e.target === d.id && e.actor === approver.username)).toBe(true);
  });

  it('holds a deployment with a start time as scheduled, and starts it on the first tick at or after that time', async () => {
    const hosts = await newHosts(1);
    const startAt = new Date(START.getTime() + 2 * HOUR);
    const d = await h.service.create(operator(), basic(hosts, { startAt }));
    expect(d.startAt).toEqual(startAt);
    await h.service.tick();
    const scheduled = await h.service.get(d.id);
    expect(scheduled.state).toBe('scheduled');
    expect(scheduled.stateReason).toBe(`scheduled to start at ${startAt.toISOString()}`);
    h.advance(2 * HOUR - MINUTE);
    await h.service.tick();
    expect((await h.service.get(d.id)).state).toBe('scheduled');
    h.advance(MINUTE);
    await h.service.tick();
    const started = await h.service.get(d.id);
    expect(started.state).toBe('running');
    expect(started.startedAt).toEqual(startAt);
    expect(started.timeline.entries.filter((e) => e.kind === 'deployment').map((e) => e.title)).toEqual([
      'created → approved',
      'approved → scheduled',
      'scheduled → running',
    ]);
  });

  it('refuses a start time in the past or more than a year ahead, and creates nothing', async () => {
    const hosts = await newHosts(1);
    const before = (await h.service.list({ limit: 500, offset: 0 })).total;
    const past = await rejection(h.service.create(operator(), basic(hosts, { startAt: new Date(START.getTime() - MINUTE) })));
    expect(past.message).toContain('schedule.startAt must be in the future');
    const far = await rejection(h.service.create(operator(), basic(hosts, { startAt: new Date(START.getTime() + 400 * 24 * HOUR) })));
    expect(far.message).toContain('schedule.startAt must be within a year');
    expect((await h.service.list({ limit: 500, offset: 0 })).total).toBe(before);
  });

  it('requires approval when a deployment targets more hosts than the threshold', async () => {
    await newHosts(3, ['many']);
    const service = createDeploymentsService({
      store: stores.deployments,
      audit: stores.audit,
      signing: () => signer,
      offer: () => false,
      now: () => START,
      config: { approvalHostThreshold: 2 },
    });
    const d = await service.create(operator(), { name: 'many', packages: [{ name: 'curl' }], targets: { groups: ['many'] } });
    expect(d.state).toBe('awaiting_approval');
    expect(d.stateReason).toMatch(/more than the approval threshold of 2/);
  });

  it('refuses bad package names and versions, unknown hosts and empty targets, naming the problem, and creates nothing', async () => {
    const hosts = await newHosts(1);
    const before = (await h.service.list({ limit: 1, offset: 0 })).total;
    for (const bad of ['-oAPT::x=1', '--allow-unauthenticated', './x.deb', '../..', 'pkg=1', 'pkg/suite', 'a;rm', 'оpenssl']) {
      const err = await rejection(h.service.create(operator(), { ...basic(hosts), packages: [{ name: bad }] }));
      expect(err.code).toBe('bad_request');
      expect(err.message).toContain(JSON.stringify(bad));
    }
    const version = await rejection(h.service.create(operator(), { ...basic(hosts), packages: [{ name: 'curl', version: '--force' }] }));
    expect(version.code).toBe('bad_request');
    const unknown = randomUUID();
    const err = await rejection(h.service.create(operator(), basic([unknown])));
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain(unknown);
    const pending = await newHosts(1, [], 'pending');
    expect((await rejection(h.service.create(operator(), basic(pending)))).code).toBe('bad_request');
    expect((await rejection(h.service.create(operator(), { ...basic(hosts), name: '' }))).code).toBe('bad_request');
    const noPilot = await rejection(h.service.create(operator(), { ...basic(hosts), waves: [{ group: 'nobody-here' }, { percent: 100 }] }));
    expect(noPilot.code).toBe('bad_request');
    expect(noPilot.message).toContain('"nobody-here"');
    expect((await h.service.list({ limit: 1, offset: 0 })).total).toBe(before);
  });

  it('runs a two-wave deployment: wave 1, bake time, then wave 2, and completes with a verified summary', async () => {
    const pilot = await newHosts(1, ['pilot']);
    const rest = await newHosts(2, ['web']);
    [...pilot, ...rest].forEach((id) => {
      h.online.add(id);
    });
    const d = await h.service.create(operator(), {
      name: 'two waves',
      packages: [{ name: 'openssl', version: '3.0.2-1' }],
      targets: { groups: ['pilot', 'web'] },
      waves: [
        { name: 'pilot', group: 'pilot', bakeMinutes: 60, successThreshold: 1 },
        { name: 'rest', percent: 100, bakeMinutes: 0, successThreshold: 1 },
      ],
    });
    await h.service.tick();
    expect(h.offers.map((o) => o.hostId)).toEqual(pilot);
    await h.service.onAssignmentStatus(pilot[0]!, status(h.offers[0]!.signed.assignment.assignmentId, 'running'));
    await h.service.onAssignmentStatus(pilot[0]!, succeed(h.offers[0]!.signed));
    let v = await h.service.get(d.id);
    expect(v.waves[0]!.counts.succeeded).toBe(1);
    expect(v.waves[0]!.state).toBe('running'); // baking
    expect(h.offers).toHaveLength(1);

    h.advance(30 * MINUTE);
    await h.service.tick();
    expect(h.offers).toHaveLength(1);
    h.advance(31 * MINUTE);
    await h.service.tick();
    expect(
      h.offers
        .slice(1)
        .map((o) => o.hostId)
        .sort(),
    ).toEqual([...rest].sort());
    v = await h.service.get(d.id);
    expect(v.waves.map((w) => w.state)).toEqual(['passed', 'running']);

    for (const o of h.offers.slice(1)) await h.service.onAssignmentStatus(o.hostId, succeed(o.signed));
    v = await h.service.get(d.id);
    expect(v.state).toBe('completed');
    expect(v.summary).toMatchObject({ total: 3, succeeded: 3, failed: 0, verified: 3, inProgress: 0 });
    expect(v.timeline.entries.map((e) => e.title)).toEqual(
      expect.arrayContaining(['created → approved', 'approved → running', 'running → completed', 'wave 1 "pilot" advanced']),
    );
    expect(v.finishedAt).not.toBeNull();
  });

  it('marks a success that does not show the requested version as not verified', async () => {
    const hosts = await newHosts(1);
    h.online.add(hosts[0]!);
    const d = await h.service.create(operator(), basic(hosts));
    await h.service.tick();
    const signed = h.offers[0]!.signed;
    await h.service.onAssignmentStatus(
      hosts[0]!,
      status(signed.assignment.assignmentId, 'succeeded', { installed: [{ name: 'openssl', version: '3.0.1-1' }] }),
    );
    const v = await h.service.get(d.id);
    expect(v.hosts[0]).toMatchObject({ state: 'succeeded', verified: false });
    expect(v.summary.verified).toBe(0);
  });

  it('records what the agent did about the reboot policy in a second success report, changing nothing else', async () => {
    const hosts = await newHosts(1);
    h.online.add(hosts[0]!);
    const d = await h.service.create(operator(), basic(hosts, { rebootPolicy: 'if-required' }));
    await h.service.tick();
    const signed = h.offers[0]!.signed;
    await h.service.onAssignmentStatus(hosts[0]!, { ...succeed(signed), rebootRequired: true });
    await h.service.onAssignmentStatus(hosts[0]!, {
      ...succeed(signed),
      rebootRequired: true,
      reboot: { state: 'scheduled', scheduledAt: '2026-11-27T10:02:00.000Z', delaySeconds: 120 },
    });
    let v = await h.service.get(d.id);
    expect(v.hosts[0]).toMatchObject({
      state: 'succeeded',
      verified: true,
      rebootRequired: true,
      reason: 'succeeded; installed versions verified; reboot scheduled for 2026-11-27T10:02:00.000Z',
    });
    // A later report replaces the note rather than piling notes up.
    await h.service.onAssignmentStatus(hosts[0]!, {
      ...succeed(signed),
      reboot: { state: 'failed', code: 'reboot-failed', detail: 'shutdown: not permitted' },
    });
    v = await h.service.get(d.id);
    expect(v.hosts[0]?.reason).toBe('succeeded; installed versions verified; reboot failed: shutdown: not permitted');
    expect(v.summary.succeeded).toBe(1);
  });

  it('verifies "latest, at least X" by the ecosystem\'s ordering, and refuses a pin together with a minimum', async () => {
    const hosts = await newHosts(2);
    for (const id of hosts) h.online.add(id);
    const d = await h.service.create(
      operator(),
      basic(hosts, { packages: [{ name: 'openssl', version: null, minVersion: '3.0.13-1~deb12u1' }] }),
    );
    await h.service.tick();
    const [a, b] = h.offers.filter((o) => hosts.includes(o.hostId));
    // The agent installs what its repositories offer: a newer point release passes, an older one does not.
    await h.service.onAssignmentStatus(
      a!.hostId,
      status(a!.signed.assignment.assignmentId, 'succeeded', { installed: [{ name: 'openssl', version: '3.0.15-1~deb12u1' }] }),
    );
    await h.service.onAssignmentStatus(
      b!.hostId,
      status(b!.signed.assignment.assignmentId, 'succeeded', { installed: [{ name: 'openssl', version: '3.0.13-1~deb12u0' }] }),
    );
    const v = await h.service.get(d.id);
    expect(Object.fromEntries(v.hosts.map((x) => [x.hostId, x.verified]))).toEqual({ [a!.hostId]: true, [b!.hostId]: false });
    expect(v.packages).toEqual([{ name: 'openssl', version: null, minVersion: '3.0.13-1~deb12u1' }]);

    const both = await rejection(
      h.service.create(operator(), basic(hosts, { packages: [{ name: 'openssl', version: '1', minVersion: '2' }] })),
    );
    expect(both.message).toContain('both a version and a minVersion');
    const bad = await rejection(h.service.create(operator(), basic(hosts, { packages: [{ name: 'openssl', minVersion: '-oops' }] })));
    expect(bad.code).toBe('bad_request');
  });

  it('halts a wave whose failure rate passes the threshold, before offering anything to the next wave', async () => {
    const pilot = await newHosts(2, ['canary']);
    const rest = await newHosts(2, ['fleet']);
    [...pilot, ...rest].forEach((id) => {
      h.online.add(id);
    });
    const d = await h.service.create(operator(), {
      name: 'bad patch',
      packages: [{ name: 'libc6' }],
      targets: { groups: ['canary', 'fleet'] },
      waves: [
        { group: 'canary', bakeMinutes: 0, successThreshold: 1 },
        { percent: 100, bakeMinutes: 0 },
      ],
    });
    await h.service.tick();
    expect(h.offers.map((o) => o.hostId).sort()).toEqual([...pilot].sort());
    const first = h.offers[0]!;
    await h.service.onAssignmentStatus(
      first.hostId,
      status(first.signed.assignment.assignmentId, 'failed', { code: 'apt_failed', detail: 'E: broken' }),
    );
    const v = await h.service.get(d.id);
    expect(v.state).toBe('halted');
    expect(v.stateReason).toMatch(/threshold/);
    expect(v.waves[0]!.state).toBe('halted');
    h.advance(2 * HOUR);
    await h.service.tick();
    expect(h.offers.filter((o) => rest.includes(o.hostId))).toEqual([]);
    expect((await h.service.get(d.id)).waves[1]!.counts.pending).toBe(2);
  });

  it('gives an offline host its assignment when it reconnects, in sequence order', async () => {
    const hosts = await newHosts(1);
    const d1 = await h.service.create(operator(), basic(hosts));
    h.advance(1000); // deployments start in creation order
    const d2 = await h.service.create(operator(), basic(hosts, { packages: [{ name: 'curl' }] }));
    await h.service.tick();
    expect(h.offers).toEqual([]);
    let v = await h.service.get(d1.id);
    expect(v.hosts[0]!.state).toBe('unreached');
    expect(v.state).toBe('running');
    const sent = await h.service.onAgentConnected(hosts[0]!, 0);
    expect(sent.map((s) => s.assignment.deploymentId)).toEqual([d1.id, d2.id]);
    expect(sent[0]!.assignment.sequence).toBeLessThan(sent[1]!.assignment.sequence);
    expect(verifySignedAssignment(sent[0], { pinnedServerPublicKey: identity.publicKey, hostId: hosts[0]!, now: h.clock.now }).ok).toBe(
      true,
    );
    v = await h.service.get(d1.id);
    expect(v.hosts[0]!.state).toBe('offered');
    await h.service.onAssignmentStatus(hosts[0]!, succeed(sent[0]!));
    expect((await h.service.get(d1.id)).state).toBe('completed');
    // The finished one is not sent again; the open one is (same document: the agent's ledger dedupes).
    const again = await h.service.onAgentConnected(hosts[0]!, 2);
    expect(again).toEqual([sent[1]]);
  });

  it('marks an assignment past its expiry expired and never sends it', async () => {
    const hosts = await newHosts(1);
    const d = await h.service.create(operator(), basic(hosts, { waves: [{ bakeMinutes: 0, successThreshold: 0 }] }));
    await h.service.tick();
    expect((await h.service.get(d.id)).hosts[0]!.state).toBe('unreached');
    h.advance(73 * HOUR);
    h.online.add(hosts[0]!);
    expect(await h.service.onAgentConnected(hosts[0]!, 0)).toEqual([]);
    await h.service.tick();
    expect(h.offers).toEqual([]);
    const v = await h.service.get(d.id);
    expect(v.hosts[0]!.state).toBe('expired');
    expect(v.summary.expired).toBe(1);
  });

  it('caps the expiry at the deployment deadline', async () => {
    const hosts = await newHosts(1);
    h.online.add(hosts[0]!);
    await h.service.create(operator(), basic(hosts, { deadlineHours: 2 }));
    await h.service.tick();
    expect(h.offers[0]!.signed.assignment.expiresAt).toBe(new Date(START.getTime() + 2 * HOUR).toISOString());
    expect(h.offers[0]!.signed.assignment.notBefore).toBe(new Date(START.getTime() - 5 * MINUTE).toISOString());
  });

  it('survives a restart mid-rollout: a second instance neither re-signs nor offers anything twice', async () => {
    const pilot = await newHosts(1, ['rs-pilot']);
    const rest = await newHosts(2, ['rs-rest']);
    const offline = rest[1]!;
    [pilot[0]!, rest[0]!].forEach((id) => {
      h.online.add(id);
    });
    const d = await h.service.create(operator(), {
      name: 'restart',
      packages: [{ name: 'bash' }],
      targets: { groups: ['rs-pilot', 'rs-rest'] },
      waves: [
        { group: 'rs-pilot', bakeMinutes: 10, successThreshold: 1 },
        { bakeMinutes: 0, successThreshold: 0.5 },
      ],
    });
    await h.service.tick();
    await h.service.onAssignmentStatus(pilot[0]!, succeed(h.offers[0]!.signed));
    h.advance(11 * MINUTE);
    await h.service.tick();
    expect(h.offers).toHaveLength(2);
    const before = await stores.deployments.assignments(d.id);

    // "Restart": a new service instance on the same database, its own (empty) memory.
    const second = h.build();
    await second.tick();
    await second.tick();
    expect(h.offers).toHaveLength(2);
    const after = await stores.deployments.assignments(d.id);
    expect(after.map((a) => a.signed?.assignment.nonce)).toEqual(before.map((a) => a.signed?.assignment.nonce));

    // The offline host reconnects to the restarted server: the stored document, same nonce.
    const sent = await second.onAgentConnected(offline, 0);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual(before.find((a) => a.hostId === offline)?.signed);
    const resent = await second.onAgentConnected(rest[0]!, 1);
    expect(resent).toEqual([h.offers[1]!.signed]);
  });

  it('ignores duplicated, late and foreign status messages', async () => {
    const hosts = await newHosts(2);
    hosts.forEach((id) => {
      h.online.add(id);
    });
    const d = await h.service.create(operator(), basic(hosts, { waves: [{ bakeMinutes: 0, successThreshold: 0.5 }] }));
    await h.service.tick();
    const [a, b] = h.offers;
    await h.service.onAssignmentStatus(a!.hostId, succeed(a!.signed));
    const once = await h.service.get(d.id);
    await h.service.onAssignmentStatus(a!.hostId, succeed(a!.signed));
    await h.service.onAssignmentStatus(a!.hostId, status(a!.signed.assignment.assignmentId, 'running'));
    await h.service.onAssignmentStatus(a!.hostId, status(a!.signed.assignment.assignmentId, 'failed'));
    // Host a reports on host b's assignment: ignored and audited.
    await h.service.onAssignmentStatus(a!.hostId, status(b!.signed.assignment.assignmentId, 'failed'));
    await h.service.onAssignmentStatus(a!.hostId, status(randomUUID(), 'succeeded'));
    const v = await h.service.get(d.id);
    expect(v.hosts.find((x) => x.hostId === a!.hostId)).toEqual(once.hosts.find((x) => x.hostId === a!.hostId));
    expect(v.hosts.find((x) => x.hostId === b!.hostId)?.state).toBe('offered');
    const audit = await stores.audit.list({ limit: 500, offset: 0 });
    expect(
      audit.items.filter((e) => e.action === 'assignment.foreign-status' && e.target === b!.signed.assignment.assignmentId),
    ).toHaveLength(1);
  });

  it('records a refusal as a failure and a security event', async () => {
    const hosts = await newHosts(1);
    h.online.add(hosts[0]!);
    const d = await h.service.create(operator(), basic(hosts));
    await h.service.tick();
    const id = h.offers[0]!.signed.assignment.assignmentId;
    await h.service.onAssignmentStatus(hosts[0]!, status(id, 'refused', { code: 'bad_signature' }));
    const v = await h.service.get(d.id);
    expect(v.hosts[0]).toMatchObject({ state: 'failed', code: 'bad_signature' });
    const audit = await stores.audit.list({ limit: 500, offset: 0 });
    expect(audit.items.some((e) => e.action === 'assignment.refused' && e.target === id)).toBe(true);
  });

  it('stops offering when a deployment is aborted during a wave, and records who and why', async () => {
    const pilot = await newHosts(1, ['ab-pilot']);
    const rest = await newHosts(1, ['ab-rest']);
    const late = await newHosts(1, ['ab-pilot']);
    h.online.add(pilot[0]!);
    h.online.add(rest[0]!);
    const d = await h.service.create(operator(), {
      name: 'abort me',
      packages: [{ name: 'zlib1g' }],
      targets: { groups: ['ab-pilot', 'ab-rest'] },
      waves: [{ group: 'ab-pilot', bakeMinutes: 0, successThreshold: 0.5 }, { bakeMinutes: 0 }],
    });
    await h.service.tick();
    expect(h.offers).toHaveLength(1);
    const boss = operator();
    const aborted = await h.service.abort(boss, d.id, 'wrong version picked');
    expect(aborted.state).toBe('aborted');
    expect(aborted.stateReason).toBe('aborted: wrong version picked');
    await h.service.onAssignmentStatus(pilot[0]!, succeed(h.offers[0]!.signed));
    await h.service.tick();
    expect(h.offers).toHaveLength(1);
    expect(await h.service.onAgentConnected(late[0]!, 0)).toEqual([]);
    const v = await h.service.get(d.id);
    expect(v.state).toBe('aborted');
    expect(v.hosts.find((x) => x.hostId === late[0])?.state).toBe('expired');
    expect(v.timeline.entries.at(-1)).toMatchObject({ actor: boss.username, title: 'running → aborted' });
    const empty = await rejection(h.service.abort(boss, d.id, 'again'));
    expect(empty.code).toBe('conflict');
  });

  it('hands a reconnecting agent nothing from a paused deployment, and its work once resumed', async () => {
    const hosts = await newHosts(1);
    const d = await h.service.create(operator(), basic(hosts));
    await h.service.tick();
    expect((await h.service.get(d.id)).hosts[0]!.state).toBe('unreached');
    await h.service.pause(operator(), d.id);
    expect(await h.service.onAgentConnected(hosts[0]!, 0)).toEqual([]);
    await h.service.resume(operator(), d.id);
    const sent = await h.service.onAgentConnected(hosts[0]!, 0);
    expect(sent.map((x) => x.assignment.deploymentId)).toEqual([d.id]);
  });

  it('records the outcome an agent reports after the server expired the work it was running', async () => {
    const hosts = await newHosts(1);
    const d = await h.service.create(operator(), basic(hosts, { deadlineHours: 1 }));
    await h.service.tick();
    const [signed] = await h.service.onAgentConnected(hosts[0]!, 0);
    // The agent starts at once, but its reports are lost; the deadline passes and a tick expires it.
    h.advance(2 * 3_600_000);
    await h.service.tick();
    expect((await h.service.get(d.id)).hosts[0]!.state).toBe('expired');
    await h.service.onAssignmentStatus(hosts[0]!, succeed(signed!));
    const host = (await h.service.get(d.id)).hosts[0]!;
    expect([host.state, host.verified]).toEqual(['succeeded', true]);
  });

  it('pauses and resumes: nothing is offered while paused', async () => {
    const pilot = await newHosts(1, ['pr-pilot']);
    const rest = await newHosts(1, ['pr-rest']);
    [...pilot, ...rest].forEach((id) => {
      h.online.add(id);
    });
    const d = await h.service.create(operator(), {
      name: 'pause',
      packages: [{ name: 'tzdata' }],
      targets: { groups: ['pr-pilot', 'pr-rest'] },
      waves: [{ group: 'pr-pilot', bakeMinutes: 0, successThreshold: 1 }, { bakeMinutes: 0 }],
    });
    await h.service.tick();
    await h.service.pause(operator(), d.id);
    await h.service.onAssignmentStatus(pilot[0]!, succeed(h.offers[0]!.signed));
    await h.service.tick();
    expect(h.offers).toHaveLength(1);
    await h.service.resume(operator(), d.id);
    expect(h.offers.map((o) => o.hostId)).toEqual([pilot[0], rest[0]]);
  });

  it('retries failed hosts with fresh work, and the gate judges again', async () => {
    const hosts = await newHosts(1);
    h.online.add(hosts[0]!);
    const d = await h.service.create(operator(), basic(hosts, { waves: [{ bakeMinutes: 0, successThreshold: 1 }] }));
    await h.service.tick();
    await h.service.onAssignmentStatus(hosts[0]!, status(h.offers[0]!.signed.assignment.assignmentId, 'failed'));
    expect((await h.service.get(d.id)).state).toBe('halted');
    await h.service.retryFailed(operator(), d.id);
    expect(h.offers).toHaveLength(2);
    const [first, second] = h.offers;
    expect(second!.signed.assignment.assignmentId).not.toBe(first!.signed.assignment.assignmentId);
    expect(second!.signed.assignment.sequence).toBeGreaterThan(first!.signed.assignment.sequence);
    await h.service.onAssignmentStatus(hosts[0]!, succeed(second!.signed));
    expect((await h.service.get(d.id)).state).toBe('completed');
  });

  it('lists deployments newest first with a total, filtered by state', async () => {
    const hosts = await newHosts(1);
    const d = await h.service.create(operator(), basic(hosts, { critical: true }));
    const page = await h.service.list({ state: 'awaiting_approval', limit: 100, offset: 0 });
    expect(page.items.some((i) => i.id === d.id)).toBe(true);
    expect(page.items.every((i) => i.state === 'awaiting_approval')).toBe(true);
    expect(page.total).toBeGreaterThanOrEqual(1);
    expect((await rejection(h.service.get(randomUUID()))).code).toBe('not_found');
  });

  it('a forged assignment written straight into the database is refused by the agent', async () => {
    const hosts = await newHosts(1);
    const d = await h.service.create(operator(), basic(hosts));
    await h.service.tick();
    const [row] = await stores.deployments.assignments(d.id);
    // Someone with database access signs with a key of their own and a certificate they made up.
    const rogueIdentity = generateKeyPair();
    const rogueWork = generateKeyPair();
    const rogueCert = certifyWorkKey(
      importPrivateKey(rogueIdentity.privateKeyPem),
      rogueWork.publicKey,
      START,
      new Date(START.getTime() + HOUR),
    );
    const payload = {
      kind: 'package-upgrade' as const,
      packages: [{ ecosystem: 'dpkg' as const, name: 'evil', version: null }],
      rebootPolicy: 'always' as const,
    };
    const forged = signAssignment(
      importPrivateKey(rogueWork.privateKeyPem),
      rogueCert,
      {
        assignmentId: randomUUID(),
        deploymentId: d.id,
        hostId: hosts[0]!,
        notBefore: START.toISOString(),
        expiresAt: new Date(START.getTime() + HOUR).toISOString(),
        sequence: (row?.sequence ?? 0) + 100,
      },
      payload,
    );
    await database.db.insert(assignments).values({
      id: forged.assignment.assignmentId,
      deploymentId: d.id,
      hostId: hosts[0]!,
      waveIndex: 0,
      sequence: forged.assignment.sequence,
      state: 'unreached',
      stateReason: 'inserted by hand',
      signed: forged,
      updatedAt: START,
    });
    // An altered genuine document: the payload swapped under a valid signature.
    const genuine = (await h.service.onAgentConnected(hosts[0]!, 0)).find((s) => s.assignment.assignmentId === row?.id);
    expect(genuine).toBeDefined();
    const altered = { ...genuine!, payload };
    const unsigned = { assignment: forged.assignment, payload };
    const opts = { pinnedServerPublicKey: identity.publicKey, hostId: hosts[0]!, now: START };
    expect(verifySignedAssignment(forged, opts)).toEqual({ ok: false, reason: 'bad_certificate' });
    expect(verifySignedAssignment(altered, opts)).toEqual({ ok: false, reason: 'payload_altered' });
    expect(verifySignedAssignment(unsigned, opts)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignedAssignment(genuine, opts).ok).toBe(true);
    expect(verifySignedAssignment(genuine, { ...opts, hostId: randomUUID() })).toEqual({ ok: false, reason: 'wrong_host' });
  });
});

describe('maintenance windows in the engine', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });

  /** A host in a fresh group with the nightly window 02:00-04:00 Berlin time. */
  async function nightHost(cron = '0 2 * * *', durationMinutes = 120) {
    const group = `night-${++n}`;
    const [host] = await newHosts(1, [group]);
    await h.service.createWindow(user('admin'), { group, cron, durationMinutes, timeZone: 'Europe/Berlin' });
    h.online.add(host!);
    return host!;
  }

  it('offers work only while a window of the host is open, waiting without halting the wave meanwhile', async () => {
    h.clock.now = new Date('2026-11-27T13:00:00.000Z'); // 14:00 in Berlin (CET)
    const host = await nightHost();
    const [free] = await newHosts(1);
    h.online.add(free!);
    const d = await h.service.create(operator(), basic([host, free!]));
    await h.service.tick();
    let view = await h.service.get(d.id);
    expect(view.state).toBe('running');
    expect(view.waves[0]?.state).toBe('running');
    expect(h.offers.map((o) => o.hostId)).toEqual([free]);
    const waiting = view.hosts.find((x) => x.hostId === host)!;
    expect(waiting.state).toBe('pending');
    expect(waiting.reason).toBe('waiting for maintenance window (next opening 2026-11-28T01:00:00.000Z)');
    expect((await stores.deployments.assignments(d.id)).find((a) => a.hostId === host)?.signed).toBeNull();

    // The host without windows finishes; the waiting one still holds the wave open, not halted.
    await h.service.onAssignmentStatus(free!, succeed(h.offers[0]!.signed));
    h.clock.now = new Date('2026-11-28T00:59:00.000Z');
    await h.service.tick();
    view = await h.service.get(d.id);
    expect(view.state).toBe('running');
    expect(h.offers).toHaveLength(1);

    h.clock.now = new Date('2026-11-28T01:30:00.000Z'); // 02:30 in Berlin
    await h.service.tick();
    expect(h.offers.map((o) => o.hostId)).toEqual([free, host]);
    view = await h.service.get(d.id);
    expect(view.hosts.find((x) => x.hostId === host)?.state).toBe('offered');
    await h.service.onAssignmentStatus(host, succeed(h.offers[1]!.signed));
    expect((await h.service.get(d.id)).state).toBe('completed');
  });

  it('offers an emergency deployment at once, outside the window', async () => {
    h.clock.now = new Date('2026-11-27T13:00:00.000Z');
    const host = await nightHost();
    const d = await h.service.create(operator(), basic([host], { emergency: true }));
    await h.service.approve(user('approver'), d.id);
    await h.service.tick();
    expect(h.offers.map((o) => o.hostId)).toEqual([host]);
    expect((await h.service.get(d.id)).hosts[0]?.state).toBe('offered');
  });

  it('follows the wall clock of the window across a clock change', async () => {
    // Berlin moves to summer time at 2027-03-28T01:00Z: 03:00 local is 01:00Z that day, 02:00Z the day before.
    h.clock.now = new Date('2027-03-28T00:30:00.000Z');
    const host = await nightHost('0 3 * * *', 60);
    const d = await h.service.create(operator(), basic([host]));
    await h.service.tick();
    expect(h.offers).toHaveLength(0);
    expect((await h.service.get(d.id)).hosts[0]?.reason).toBe('waiting for maintenance window (next opening 2027-03-28T01:00:00.000Z)');
    h.clock.now = new Date('2027-03-28T01:30:00.000Z'); // 03:30 summer time: open (02:30 on a fixed +1 offset would not be)
    await h.service.tick();
    expect(h.offers.map((o) => o.hostId)).toEqual([host]);
  });

  it('holds back undelivered work when the agent connects outside its window, and offers it when the window opens', async () => {
    h.clock.now = new Date('2026-11-28T01:30:00.000Z'); // inside the window
    const host = await nightHost();
    h.online.delete(host);
    const d = await h.service.create(operator(), basic([host]));
    await h.service.tick();
    expect((await h.service.get(d.id)).hosts[0]?.state).toBe('unreached');

    h.clock.now = new Date('2026-11-28T13:00:00.000Z'); // the agent comes back in the afternoon
    h.online.add(host);
    expect(await h.service.onAgentConnected(host, 0)).toEqual([]);
    let row = (await h.service.get(d.id)).hosts[0]!;
    expect(row.state).toBe('unreached');
    expect(row.reason).toMatch(
      /^reconnected outside its maintenance windows; waiting for maintenance window \(next opening 2026-11-29T01:00:00.000Z\)$/,
    );
    await h.service.tick();
    expect(h.offers).toHaveLength(0);

    h.clock.now = new Date('2026-11-29T01:05:00.000Z');
    await h.service.tick();
    expect(h.offers.map((o) => o.hostId)).toEqual([host]);
    row = (await h.service.get(d.id)).hosts[0]!;
    expect(row.state).toBe('offered');
    // Work given before is resent on reconnect whatever the time.
    h.clock.now = new Date('2026-11-29T13:00:00.000Z');
    expect((await h.service.onAgentConnected(host, 0)).map((s) => s.assignment.hostId)).toEqual([host]);
  });

  it('validates, lists and deletes windows, auditing the changes', async () => {
    const admin = user('admin');
    const group = `crud-${++n}`;
    for (const [bad, reason] of [
      [{ cron: 'not a cron' }, 'invalid_cron'],
      [{ timeZone: 'Mars/Olympus' }, 'invalid_time_zone'],
      [{ durationMinutes: 0 }, 'invalid_window'],
      [{ durationMinutes: 1.5 }, 'invalid_window'],
    ] as const) {
      const base = { group, cron: '0 2 * * *', durationMinutes: 60, timeZone: 'Europe/Berlin' };
      const err = await rejection(h.service.createWindow(admin, { ...base, ...bad }));
      expect(err.code).toBe('bad_request');
      expect(err.details?.reason).toBe(reason);
    }
    expect(
      (await rejection(h.service.createWindow(admin, { group: ' ', cron: '0 2 * * *', durationMinutes: 60, timeZone: 'UTC' }))).code,
    ).toBe('bad_request');
    const w = await h.service.createWindow(admin, { group, cron: '0 2 * * *', durationMinutes: 60, timeZone: 'europe/berlin' });
    expect(w).toMatchObject({ group, cron: '0 2 * * *', durationMinutes: 60, timeZone: 'Europe/Berlin' });
    expect(w.nextOpeningAt).toEqual(new Date('2026-11-28T01:00:00.000Z'));
    expect((await h.service.listWindows()).items.filter((x) => x.group === group).map((x) => x.id)).toEqual([w.id]);
    await h.service.deleteWindow(admin, w.id);
    expect((await h.service.listWindows()).items.some((x) => x.id === w.id)).toBe(false);
    expect((await rejection(h.service.deleteWindow(admin, w.id))).code).toBe('not_found');
    const audit = await stores.audit.list({ limit: 500, offset: 0 });
    expect(
      audit.items
        .filter((e) => e.target === w.id)
        .map((e) => e.action)
        .sort(),
    ).toEqual(['maintenance-window.create', 'maintenance-window.delete']);
  });
});
