import { SafeText } from './SafeText';

/**
 * The console's one mapping from states and severities to badge colours (styles.css .badge-*), so
 * "failed" or "critical" looks the same on every screen.
 */
export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'critical';

const badge = (tone: Tone | null) => (tone ? `badge badge-${tone}` : 'badge');

/** The badge class of a finding severity (an unknown one gets the neutral badge). */
export function severityBadge(severity: string): string {
  const tones: Record<string, Tone> = { critical: 'critical', high: 'bad', medium: 'warn', low: 'info' };
  return badge(tones[severity] ?? null);
}

/** The badge class of a compliance status of a rule. */
export function complianceBadge(status: string): string {
  const tones: Record<string, Tone> = { compliant: 'ok', remediated: 'ok', noncompliant: 'bad', error: 'warn' };
  return badge(tones[status] ?? null);
}

/** The tone of a deployment, wave or per-host state (packages/server/src/rollouts/types.ts). */
export function stateTone(state: string): Tone | null {
  switch (state) {
    case 'completed':
    case 'succeeded':
    case 'passed':
    case 'approved':
      return 'ok';
    case 'running':
    case 'offered':
    case 'scheduled':
      return 'info';
    case 'awaiting_approval':
    case 'paused':
    case 'deferred':
    case 'unreached':
      return 'warn';
    case 'halted':
    case 'failed':
    case 'aborted':
    case 'expired':
      return 'bad';
    default:
      return null;
  }
}

/** "awaiting_approval" -> "awaiting approval". */
export function stateLabel(state: string): string {
  return state.replaceAll('_', ' ');
}

/** A deployment, wave or host state as a coloured badge. */
export function StateBadge({ state, testId }: { state: string; testId?: string }) {
  return (
    <span className={badge(stateTone(state))} data-testid={testId}>
      <SafeText text={stateLabel(state)} />
    </span>
  );
}
