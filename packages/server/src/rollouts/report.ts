import { type Assignment, type DeploymentState, FINAL_DEPLOYMENT_STATES } from './types.js';

export interface ReportSummary {
  total: number;
  succeeded: number;
  failed: number;
  expired: number;
  unreached: number;
  /** pending, offered, deferred or running; 0 once the deployment is final. */
  inProgress: number;
  /** Hosts whose change waits for a reboot, whatever their state. */
  rebootPending: number;
  /** Succeeded hosts whose installed versions were read again and match. */
  verified: number;
}

/**
 * The closing numbers of a deployment. succeeded + failed + expired + unreached + inProgress = total.
 * An item with `count` stands for that many assignments alike (counts grouped in SQL).
 */
export function summarize(
  assignments: Iterable<Pick<Assignment, 'state' | 'rebootRequired' | 'verified'> & { count?: number }>,
): ReportSummary {
  const s: ReportSummary = { total: 0, succeeded: 0, failed: 0, expired: 0, unreached: 0, inProgress: 0, rebootPending: 0, verified: 0 };
  for (const a of assignments) {
    const n = a.count ?? 1;
    s.total += n;
    switch (a.state) {
      case 'succeeded':
      case 'failed':
      case 'expired':
      case 'unreached':
        s[a.state] += n;
        break;
      default:
        s.inProgress += n;
    }
    if (a.rebootRequired) s.rebootPending += n;
    if (a.state === 'succeeded' && a.verified) s.verified += n;
  }
  return s;
}

/** One recorded deployment transition (what lifecycle.transition returned, with who and when). */
export interface TransitionRecord {
  at: Date;
  /** User id, or null when the engine did it (a gate halting, a schedule starting). */
  actor: string | null;
  /** null for the record that created the deployment. */
  from: DeploymentState | null;
  to: DeploymentState;
  reason: string;
  /** The audit sequence number: orders records with the same instant. */
  seq?: number;
}

/** One recorded wave event (the gate's decisions and the wave's start). */
export interface WaveRecord {
  at: Date;
  wave: number;
  waveName: string;
  event: 'started' | 'settled' | 'advanced' | 'halted';
  reason: string;
  seq?: number;
}

export interface TimelineEntry {
  at: Date;
  actor: string | null;
  kind: 'deployment' | 'wave';
  /** e.g. `running → paused` or `wave 2 "10%" advanced`. */
  title: string;
  reason: string;
  /** The deployment state after this entry. */
  state: DeploymentState | null;
}

export interface Timeline {
  entries: TimelineEntry[];
  /** Milliseconds spent in each state; the current state counts up to `now` unless it is final. */
  timeInStateMs: Partial<Record<DeploymentState, number>>;
  /** First time it started running, and when it became completed or aborted. */
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Records whose `from` is not the state the previous record left it in: the log has a gap. */
  gaps: { at: Date; expected: DeploymentState | null; found: DeploymentState | null }[];
}

function byTimeThenSeq(a: { at: Date; seq?: number | undefined }, b: { at: Date; seq?: number | undefined }): number {
  return a.at.getTime() - b.at.getTime() || (a.seq ?? 0) - (b.seq ?? 0);
}

/** The deployment's story in order, for the report and `brier deploy watch`. Input order does not matter. */
export function buildTimeline(records: { deployment: readonly TransitionRecord[]; waves?: readonly WaveRecord[] }, now: Date): Timeline {
  const transitions = [...records.deployment].sort(byTimeThenSeq);
  const timeInStateMs: Partial<Record<DeploymentState, number>> = {};
  const gaps: Timeline['gaps'] = [];
  let startedAt: Date | null = null;
  let finishedAt: Date | null = null;
  transitions.forEach((t, i) => {
    const prev = transitions[i - 1];
    if (prev && t.from !== prev.to) gaps.push({ at: t.at, expected: prev.to, found: t.from });
    if (t.to === 'running' && startedAt === null) startedAt = t.at;
    if (FINAL_DEPLOYMENT_STATES.includes(t.to)) finishedAt ??= t.at;
    const until = transitions[i + 1]?.at ?? (FINAL_DEPLOYMENT_STATES.includes(t.to) ? t.at : now);
    timeInStateMs[t.to] = (timeInStateMs[t.to] ?? 0) + Math.max(0, until.getTime() - t.at.getTime());
  });

  const merged: { at: Date; seq?: number | undefined; entry: Omit<TimelineEntry, 'state'>; to?: DeploymentState }[] = [
    ...transitions.map((t) => ({
      at: t.at,
      seq: t.seq,
      to: t.to,
      entry: { at: t.at, actor: t.actor, kind: 'deployment' as const, title: `${t.from ?? 'created'} → ${t.to}`, reason: t.reason },
    })),
    ...(records.waves ?? []).map((w) => ({
      at: w.at,
      seq: w.seq,
      entry: {
        at: w.at,
        actor: null,
        kind: 'wave' as const,
        title: `wave ${w.wave + 1} ${JSON.stringify(w.waveName)} ${w.event}`,
        reason: w.reason,
      },
    })),
  ];
  // A stable sort keeps a deployment transition before a wave event of the same instant and seq.
  merged.sort(byTimeThenSeq);
  let state: DeploymentState | null = null;
  const entries = merged.map((m) => {
    if (m.to !== undefined) state = m.to;
    return { ...m.entry, state };
  });
  return { entries, timeInStateMs, startedAt, finishedAt, gaps };
}
