import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { complianceBadge, StateBadge, severityBadge, stateLabel, stateTone } from './badges';

describe('badges', () => {
  it('colours severities, compliance and states the same way everywhere', () => {
    expect(severityBadge('critical')).toBe('badge badge-critical');
    expect(severityBadge('low')).toBe('badge badge-info');
    expect(severityBadge('<b>')).toBe('badge');
    expect(complianceBadge('noncompliant')).toBe('badge badge-bad');
    expect(complianceBadge('remediated')).toBe('badge badge-ok');
    expect(stateTone('running')).toBe('info');
    expect(stateTone('halted')).toBe('bad');
    expect(stateTone('awaiting_approval')).toBe('warn');
    expect(stateTone('something-new')).toBeNull();
    expect(stateLabel('awaiting_approval')).toBe('awaiting approval');
  });

  it('renders an unknown state from the server as text', () => {
    const html = renderToStaticMarkup(<StateBadge state={'<img src=x>\u202e'} testId="s" />);
    expect(html).toContain('&lt;img src=x&gt;');
    expect(html).toContain('⟨U+202E⟩');
    expect(html).toContain('data-testid="s"');
    expect(html).toContain('class="badge"');
  });
});
