import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  username: text('username').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ['admin', 'approver', 'operator', 'viewer'] }).notNull(),
  disabled: boolean('disabled').notNull().default(false),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** Console sessions and long-lived API tokens: only the sha256 of the secret is stored. */
export const accessTokens = pgTable(
  'access_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: ['session', 'api'] }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name'),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [index('access_tokens_user_idx').on(t.userId, t.kind)],
);

export const enrollmentTokens = pgTable('enrollment_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  secretHash: text('secret_hash').notNull().unique(),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  autoApprove: boolean('auto_approve').notNull().default(false),
  maxUses: integer('max_uses'),
  uses: integer('uses').notNull().default(0),
  expiresAt: ts('expires_at').notNull(),
  revokedAt: ts('revoked_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const hosts = pgTable(
  'hosts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    publicKey: text('public_key').notNull().unique(),
    hostname: text('hostname').notNull(),
    status: text('status', { enum: ['pending', 'approved', 'revoked'] }).notNull(),
    enrollmentTokenId: uuid('enrollment_token_id').references(() => enrollmentTokens.id, { onDelete: 'set null' }),
    enrolledAt: ts('enrolled_at').notNull().defaultNow(),
    approvedAt: ts('approved_at'),
    revokedAt: ts('revoked_at'),
    online: boolean('online').notNull().default(false),
    lastSeenAt: ts('last_seen_at'),
    osPlatform: text('os_platform').notNull().default(''),
    osDistro: text('os_distro').notNull().default(''),
    osRelease: text('os_release').notNull().default(''),
    osCodename: text('os_codename'),
    osKernel: text('os_kernel'),
    osArch: text('os_arch'),
    facts: jsonb('facts'),
    inventoryHash: text('inventory_hash'),
    inventoryAt: ts('inventory_at'),
    packageCount: integer('package_count').notNull().default(0),
    /** When the agent last reported its pending updates (null: never). */
    updatesAt: ts('updates_at'),
    /** The last assignment sequence given to this host; incremented atomically when a deployment starts. */
    assignmentSequence: integer('assignment_sequence').notNull().default(0),
  },
  (t) => [index('hosts_hostname_idx').on(t.hostname)],
);

/**
 * Keys that may never authenticate again: a revoked host's key stays here even after the host row
 * is deleted, so deleting a host cannot resurrect a revoked identity.
 */
export const revokedKeys = pgTable('revoked_keys', {
  publicKey: text('public_key').primaryKey(),
  hostId: uuid('host_id').notNull(),
  revokedAt: ts('revoked_at').notNull().defaultNow(),
});

/** The software catalogue: one row per distinct (ecosystem, name, version, arch, source, source version). */
export const software = pgTable(
  'software',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ecosystem: text('ecosystem').notNull(),
    name: text('name').notNull(),
    version: text('version').notNull(),
    arch: text('arch').notNull(),
    // '' rather than NULL so the natural key is a plain unique index on every PostgreSQL version.
    source: text('source').notNull().default(''),
    sourceVersion: text('source_version').notNull().default(''),
  },
  (t) => [
    uniqueIndex('software_natural_key').on(t.ecosystem, t.name, t.version, t.arch, t.source, t.sourceVersion),
    index('software_name_idx').on(t.name),
  ],
);

/** Which host has which catalogue entry installed. */
export const hostSoftware = pgTable(
  'host_software',
  {
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    softwareId: bigint('software_id', { mode: 'number' })
      .notNull()
      .references(() => software.id),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.softwareId] }), index('host_software_software_idx').on(t.softwareId)],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().default(sql`now()`),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    detail: jsonb('detail'),
  },
  // By target: a host's history and the audit filter read one target's entries.
  (t) => [index('audit_log_at_idx').on(t.at), index('audit_log_target_idx').on(t.target, t.at)],
);

/** Each host's pending updates as its agent last reported them (replaced whole on every report). */
export const hostUpdates = pgTable(
  'host_updates',
  {
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    manager: text('manager').notNull(),
    name: text('name').notNull(),
    arch: text('arch').notNull(),
    ecosystem: text('ecosystem').notNull(),
    kind: text('kind').notNull(),
    installedVersion: text('installed_version'),
    candidateVersion: text('candidate_version').notNull(),
    origin: text('origin'),
    suite: text('suite'),
    title: text('title'),
    security: boolean('security').notNull(),
    advisories: jsonb('advisories').$type<string[]>(),
    rebootLikely: boolean('reboot_likely'),
  },
  (t) => [
    primaryKey({ columns: [t.hostId, t.manager, t.name, t.arch] }),
    index('host_updates_catalogue_idx').on(t.ecosystem, t.name, t.candidateVersion),
  ],
);

/** Group membership of hosts (wave plans and deployment targets name groups). */
export const hostGroups = pgTable(
  'host_groups',
  {
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    groupName: text('group_name').notNull(),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.groupName] }), index('host_groups_group_idx').on(t.groupName)],
);

/** A patch rollout: its spec, its lifecycle state and who did what to it. */
export const deployments = pgTable(
  'deployments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    state: text('state').notNull(),
    stateReason: text('state_reason').notNull(),
    spec: jsonb('spec').notNull(),
    critical: boolean('critical').notNull(),
    emergency: boolean('emergency').notNull(),
    // Users may be deleted; the deployment and its audit trail stay, so no foreign key here.
    createdBy: uuid('created_by').notNull(),
    createdByName: text('created_by_name').notNull(),
    approvedBy: uuid('approved_by'),
    approvedByName: text('approved_by_name'),
    approvedAt: ts('approved_at'),
    createdAt: ts('created_at').notNull(),
    /** Not started before this instant (an operator's schedule); null: as soon as approved. */
    startAt: ts('start_at'),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    deadlineAt: ts('deadline_at'),
    postmortem: text('postmortem'),
  },
  (t) => [index('deployments_state_idx').on(t.state), index('deployments_created_idx').on(t.createdAt)],
);

/** One wave of a deployment, planned at start; its timestamps are the gate's memory across restarts. */
export const deploymentWaves = pgTable(
  'deployment_waves',
  {
    deploymentId: uuid('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    index: integer('index').notNull(),
    name: text('name').notNull(),
    spec: jsonb('spec').notNull(),
    startedAt: ts('started_at'),
    settledAt: ts('settled_at'),
    passedAt: ts('passed_at'),
    haltedReason: text('halted_reason'),
  },
  (t) => [primaryKey({ columns: [t.deploymentId, t.index] })],
);

/** One host's work in one deployment; `signed` is the document sent (and resent) verbatim. */
export const assignments = pgTable(
  'assignments',
  {
    id: uuid('id').primaryKey(),
    deploymentId: uuid('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    waveIndex: integer('wave_index').notNull(),
    sequence: integer('sequence').notNull(),
    state: text('state').notNull(),
    stateReason: text('state_reason').notNull(),
    code: text('code'),
    notBefore: ts('not_before'),
    expiresAt: ts('expires_at'),
    signed: jsonb('signed'),
    offeredAt: ts('offered_at'),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    updatedAt: ts('updated_at').notNull(),
    installed: jsonb('installed'),
    rebootRequired: boolean('reboot_required').notNull().default(false),
    verified: boolean('verified').notNull().default(false),
    output: text('output'),
  },
  (t) => [
    uniqueIndex('assignments_host_sequence').on(t.hostId, t.sequence),
    index('assignments_deployment_idx').on(t.deploymentId, t.waveIndex),
    index('assignments_state_expiry_idx').on(t.state, t.expiresAt),
  ],
);

/** Every transition and wave event of a deployment, in order: the timeline and the report. */
export const deploymentEvents = pgTable(
  'deployment_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deploymentId: uuid('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    at: ts('at').notNull(),
    actor: text('actor'),
    kind: text('kind').notNull(),
    fromState: text('from_state'),
    toState: text('to_state'),
    reason: text('reason').notNull(),
    detail: jsonb('detail'),
  },
  (t) => [index('deployment_events_deployment_idx').on(t.deploymentId, t.id)],
);

/**
 * A maintenance window of a host group: it opens at every fire time of `cron` on the wall clock of
 * `time_zone` and stays open `duration_minutes`. A group may have several (their union applies);
 * groups are names (host_groups has no table of its own), so a window may name a group no host is in yet.
 */
export const maintenanceWindows = pgTable(
  'maintenance_windows',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    groupName: text('group_name').notNull(),
    cron: text('cron').notNull(),
    durationMinutes: integer('duration_minutes').notNull(),
    timeZone: text('time_zone').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('maintenance_windows_group_idx').on(t.groupName)],
);

// ------------------------------------------------------------------ vulnerabilities

/** One vulnerability record of one feed (OSV or the Debian Security Tracker), as last imported. */
export const vulnAdvisories = pgTable(
  'vuln_advisories',
  {
    source: text('source').notNull(),
    id: text('id').notNull(),
    aliases: jsonb('aliases').notNull(),
    modified: ts('modified').notNull(),
    published: ts('published'),
    withdrawn: ts('withdrawn'),
    summary: text('summary'),
    /** Scored at import: critical/high/medium/low, or 'unknown' when the record rates nothing. */
    severity: text('severity').notNull(),
    severityScore: doublePrecision('severity_score'),
    /** Which input decided the severity (CVSS_V4, CVSS_V3, DEBIAN_URGENCY, ...), shown with it. */
    severitySource: text('severity_source').notNull(),
    severityDetail: text('severity_detail').notNull(),
    /** sha256 of the normalised record: a re-import of identical content changes nothing. */
    contentHash: text('content_hash').notNull(),
    importedAt: ts('imported_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.id] }), index('vuln_advisories_severity_idx').on(t.severity)],
);

/** One affected package of an advisory; `name` is a source package where `keyed_by` says so. */
export const vulnAffected = pgTable(
  'vuln_affected',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    source: text('source').notNull(),
    advisoryId: text('advisory_id').notNull(),
    ecosystem: text('ecosystem').notNull(),
    name: text('name').notNull(),
    keyedBy: text('keyed_by').notNull(),
    ranges: jsonb('ranges').notNull(),
    versions: jsonb('versions').notNull(),
    endOfLife: boolean('end_of_life').notNull().default(false),
  },
  (t) => [index('vuln_affected_advisory_idx').on(t.source, t.advisoryId), index('vuln_affected_name_idx').on(t.name)],
);

/**
 * A catalogue entry matched against an advisory under one OS ecosystem (`Debian:12`): the matcher's
 * output, from which host findings are derived with one join. Recomputed per software entry when
 * inventory brings new entries, per advisory when a feed changes.
 */
export const vulnMatches = pgTable(
  'vuln_matches',
  {
    softwareId: bigint('software_id', { mode: 'number' })
      .notNull()
      .references(() => software.id, { onDelete: 'cascade' }),
    osEcosystem: text('os_ecosystem').notNull(),
    source: text('source').notNull(),
    advisoryId: text('advisory_id').notNull(),
    fixedVersion: text('fixed_version'),
    explanation: jsonb('explanation').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.softwareId, t.osEcosystem, t.source, t.advisoryId] }),
    index('vuln_matches_advisory_idx').on(t.source, t.advisoryId),
  ],
);

/** Which catalogue entries the matcher has seen, per OS ecosystem (new entries are matched on ingest). */
export const vulnMatched = pgTable(
  'vuln_matched',
  {
    softwareId: bigint('software_id', { mode: 'number' })
      .notNull()
      .references(() => software.id, { onDelete: 'cascade' }),
    osEcosystem: text('os_ecosystem').notNull(),
  },
  (t) => [primaryKey({ columns: [t.softwareId, t.osEcosystem] })],
);

/**
 * A host exposed to an advisory through one installed package. Open while `closed_at` is null;
 * closed as 'remediated' (the package moved past the fix or went away), 'withdrawn' (the record was
 * withdrawn) or 'host-removed'. A finding that comes back after being closed is reopened with a new
 * first-seen time, so time-to-remediate counts each exposure once.
 */
export const vulnFindings = pgTable(
  'vuln_findings',
  {
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    source: text('source').notNull(),
    advisoryId: text('advisory_id').notNull(),
    packageName: text('package_name').notNull(),
    installedVersion: text('installed_version').notNull(),
    fixedVersion: text('fixed_version'),
    severity: text('severity').notNull(),
    riskTier: integer('risk_tier').notNull(),
    firstSeenAt: ts('first_seen_at').notNull(),
    dueAt: ts('due_at').notNull(),
    lastMatchedAt: ts('last_matched_at').notNull(),
    closedAt: ts('closed_at'),
    closedReason: text('closed_reason'),
    explanation: jsonb('explanation').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.hostId, t.source, t.advisoryId, t.packageName] }),
    index('vuln_findings_advisory_idx').on(t.source, t.advisoryId),
    index('vuln_findings_open_due_idx').on(t.closedAt, t.dueAt),
    // The dashboard's aggregates, answered from the indexes alone: open findings by severity, tier
    // and due date; findings first seen, and remediated, per day.
    index('vuln_findings_open_severity_idx').on(t.severity, t.riskTier, t.dueAt).where(sql`${t.closedAt} is null`),
    index('vuln_findings_first_seen_idx').on(t.firstSeenAt, t.closedReason),
    index('vuln_findings_closed_idx').on(t.closedAt, t.firstSeenAt, t.closedReason).where(sql`${t.closedAt} is not null`),
  ],
);

/** Risk tier (1-5, 5 most important) and site of a host; absent: the group's tier, else the default. */
export const hostAttributes = pgTable('host_attributes', {
  hostId: uuid('host_id')
    .primaryKey()
    .references(() => hosts.id, { onDelete: 'cascade' }),
  riskTier: integer('risk_tier'),
  site: text('site'),
});

/** Risk tier of a host group: a host in several groups takes the highest. */
export const groupTiers = pgTable('group_tiers', {
  groupName: text('group_name').primaryKey(),
  riskTier: integer('risk_tier').notNull(),
});

/** Small server-wide settings edited through the API (the SLA matrix), as JSON by key. */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: ts('updated_at').notNull(),
  updatedBy: text('updated_by'),
});

/** A feed Brier imports on a schedule (cron in the server's time zone). */
export const vulnFeeds = pgTable('vuln_feeds', {
  id: uuid('id').primaryKey().defaultRandom(),
  kind: text('kind').notNull(),
  location: text('location').notNull(),
  cron: text('cron').notNull(),
  lastRunAt: ts('last_run_at'),
  createdAt: ts('created_at').notNull(),
});

/** One import run: where from, when, what it counted, and the error that stopped it if any. */
export const vulnImports = pgTable(
  'vuln_imports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind').notNull(),
    location: text('location').notNull(),
    actor: text('actor').notNull(),
    startedAt: ts('started_at').notNull(),
    finishedAt: ts('finished_at'),
    counts: jsonb('counts').notNull(),
    error: text('error'),
  },
  (t) => [index('vuln_imports_started_idx').on(t.startedAt)],
);

// ------------------------------------------------------------------ desired state

/** A named policy: rules in audit or enforce mode, assigned to hosts and groups. Each edit bumps `version`. */
export const policies = pgTable('policies', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  mode: text('mode').notNull(),
  rules: jsonb('rules').notNull(),
  /** {hostIds?: string[], groups?: string[]} */
  targets: jsonb('targets').notNull(),
  intervalMinutes: integer('interval_minutes').notNull(),
  /** Ask an approver to quarantine a host whose antivirus stays unhealthy this long (null: never). */
  quarantineAfterMinutes: integer('quarantine_after_minutes'),
  version: integer('version').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: ts('created_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
});

/** The last bundle signed for each host: resent on reconnect, replaced when its policies change. */
export const hostBundles = pgTable('host_bundles', {
  hostId: uuid('host_id')
    .primaryKey()
    .references(() => hosts.id, { onDelete: 'cascade' }),
  sequence: bigint('sequence', { mode: 'number' }).notNull(),
  /** sha256 of the policies it carries: an unchanged set is not re-signed. */
  contentHash: text('content_hash').notNull(),
  signed: jsonb('signed').notNull(),
  issuedAt: ts('issued_at').notNull(),
  /** The sequence the agent last said it enforces. */
  ackedSequence: bigint('acked_sequence', { mode: 'number' }),
});

/** The latest result of each rule on each host. */
export const compliance = pgTable(
  'compliance',
  {
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    policyId: uuid('policy_id').notNull(),
    rule: integer('rule').notNull(),
    policyVersion: integer('policy_version').notNull(),
    kind: text('kind').notNull(),
    status: text('status').notNull(),
    detail: text('detail').notNull(),
    checkedAt: ts('checked_at').notNull(),
    /** When the status last changed (how long a rule has been failing). */
    sinceAt: ts('since_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.policyId, t.rule] }), index('compliance_policy_idx').on(t.policyId, t.status)],
);

/** Every remediation an agent attempted, with before and after. */
export const remediationEvents = pgTable(
  'remediation_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    policyId: uuid('policy_id').notNull(),
    policyVersion: integer('policy_version').notNull(),
    rule: integer('rule').notNull(),
    action: text('action').notNull(),
    ok: boolean('ok').notNull(),
    before: text('before').notNull(),
    after: text('after').notNull(),
    at: ts('at').notNull(),
    receivedAt: ts('received_at').notNull(),
  },
  (t) => [index('remediation_events_host_idx').on(t.hostId, t.at)],
);

/** Quarantine per host: the last signed order and what the agent said it did. */
export const quarantines = pgTable('quarantines', {
  hostId: uuid('host_id')
    .primaryKey()
    .references(() => hosts.id, { onDelete: 'cascade' }),
  /** isolate | release: what the server asked for last. */
  action: text('action').notNull(),
  sequence: bigint('sequence', { mode: 'number' }).notNull(),
  signed: jsonb('signed').notNull(),
  /** pending | isolated | released | failed | refused: what the agent reported. */
  state: text('state').notNull(),
  detail: text('detail'),
  reason: text('reason').notNull(),
  requestedBy: text('requested_by').notNull(),
  requestedAt: ts('requested_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
});

/** Quarantines a policy asked for: an approver decides. */
export const quarantineRequests = pgTable(
  'quarantine_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    policyId: uuid('policy_id').notNull(),
    reason: text('reason').notNull(),
    state: text('state').notNull(),
    requestedAt: ts('requested_at').notNull(),
    decidedBy: text('decided_by'),
    decidedAt: ts('decided_at'),
  },
  (t) => [index('quarantine_requests_state_idx').on(t.state)],
);

/** A MAC/IP pair an agent saw in its neighbour table. */
export const networkSightings = pgTable(
  'network_sightings',
  {
    mac: text('mac').notNull(),
    ip: text('ip').notNull(),
    /** The agent that saw it. */
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    interface: text('interface').notNull(),
    firstSeenAt: ts('first_seen_at').notNull(),
    lastSeenAt: ts('last_seen_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.mac, t.ip, t.hostId] }), index('network_sightings_mac_idx').on(t.mac)],
);

/** An operator's verdict on a device nobody manages: known (expected, e.g. a printer) or ignored. */
export const deviceMarks = pgTable('device_marks', {
  mac: text('mac').primaryKey(),
  state: text('state').notNull(),
  note: text('note'),
  markedBy: text('marked_by').notNull(),
  markedAt: ts('marked_at').notNull(),
});
