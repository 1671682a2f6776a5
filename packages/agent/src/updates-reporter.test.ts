import { AgentMessages, Codec, type PendingUpdate, ServerMessages, UPDATES_PER_REPORT } from '@brier/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type PendingUpdatesSnapshot, UpdatesReporter } from './updates-reporter.js';

const codec = new Codec(ServerMessages, AgentMessages);

function update(name: string, security = false): PendingUpdate {
  return {
    ecosystem: 'dpkg',
    manager: 'apt',
    kind: 'package',
    name,
    arch: 'amd64',
    installedVersion: '1.0-1',
    candidateVersion: '1.0-2',
    security,
  };
}

function harness(snapshots: PendingUpdatesSnapshot[]) {
  const sent: Array<{ type: string; body: Record<string, unknown> }> = [];
  let i = 0;
  const reporter = new UpdatesReporter({
    link: {
      send: (type, body) => {
        // Through the real codec, so a body the server would refuse fails the test.
        const frame = JSON.parse(codec.encode(type, body)) as { type: string; body: Record<string, unknown> };
        sent.push(frame);
        return true;
      },
    },
    collect: async () => snapshots[Math.min(i++, snapshots.length - 1)] as PendingUpdatesSnapshot,
    logger: pino({ level: 'silent' }),
    now: () => new Date('2026-11-27T10:00:00Z'),
  });
  return { reporter, sent };
}

describe('UpdatesReporter', () => {
  it('reports on connect and again after a scan only when the list changed', async () => {
    const a = { updates: [update('a')], sources: ['apt' as const] };
    const b = { updates: [update('a'), update('b', true)], sources: ['apt' as const] };
    const { reporter, sent } = harness([a, a, b]);
    await reporter.connected();
    expect(sent.map((m) => m.type)).toEqual(['updates.report']);
    reporter.onMessage('updates.ack', { count: 1 });
    await reporter.scan();
    expect(sent).toHaveLength(1);
    await reporter.scan();
    expect(sent).toHaveLength(2);
    expect(((sent[1]?.body.updates ?? []) as PendingUpdate[]).map((u) => u.name)).toEqual(['b', 'a']);
  });

  it('reports again on every reconnect, since the server may have lost the list', async () => {
    const a = { updates: [update('a')], sources: ['apt' as const] };
    const { reporter, sent } = harness([a]);
    await reporter.connected();
    reporter.onMessage('updates.ack', { count: 1 });
    await reporter.connected();
    expect(sent).toHaveLength(2);
  });

  it('cuts a list longer than one frame holds, keeping security fixes, and says so', async () => {
    const many = Array.from({ length: UPDATES_PER_REPORT + 5 }, (_, n) => update(`p${n}`, n === UPDATES_PER_REPORT + 4));
    const { reporter, sent } = harness([{ updates: many, sources: ['apt'] }]);
    await reporter.connected();
    const body = sent[0]?.body as { updates: PendingUpdate[]; truncated: boolean };
    expect(body.truncated).toBe(true);
    expect(body.updates).toHaveLength(UPDATES_PER_REPORT);
    expect(body.updates[0]?.security).toBe(true);
  });

  it('runs one more check when asked during a check, so a change made meanwhile is reported', async () => {
    const a = { updates: [update('a')], sources: ['apt' as const] };
    const b = { updates: [], sources: ['apt' as const] };
    const { reporter, sent } = harness([a, b]);
    const first = reporter.connected();
    const second = reporter.scan();
    await Promise.all([first, second]);
    expect(sent.map((m) => (m.body.updates as unknown[]).length)).toEqual([1, 0]);
  });

  it('logs a failed check and does not reject', async () => {
    const reporter = new UpdatesReporter({
      link: { send: () => true },
      collect: async () => {
        throw new Error('apt exploded');
      },
      logger: pino({ level: 'silent' }),
    });
    await expect(reporter.scan()).resolves.toBeUndefined();
  });
});
