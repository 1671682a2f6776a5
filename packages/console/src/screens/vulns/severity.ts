/** The four severities a finding can have, worst first (what the server's filter accepts). */
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** Chart colours (the stylesheet's palette) per severity; others cycle through a fixed palette. */
export const SEVERITY_COLORS: Record<Severity, string> = {
  critical: '#7b1fa2',
  high: '#c0392b',
  medium: '#b7791f',
  low: '#2f5bd3',
};

export const PALETTE = ['#2f5bd3', '#1f8a4c', '#b7791f', '#c0392b', '#7b1fa2', '#0e7490', '#9f1239', '#4d7c0f', '#6b7280', '#a16207'];
