import { AgentMessages, Codec, MAX_FRAME_BYTES, MAX_NEIGHBORS, type Neighbor, ServerMessages } from '@brier/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESEND_UNCHANGED_MS, fitOneFrame, NeighborsReporter, type NeighborsSnapshot } from './neighbors-reporter.js';

const codec = new Codec(ServerMessages, AgentMessages);

const n = (ip: string, state = 'REACHABLE', mac = '52:54:00:12:34:56'): Neighbor => ({ ip, mac, interface: 'eth0', state });

function harness(snapshots: Array<NeighborsSnapshot | Error>, options: { linkUp?: () => boolean } = {}) {
  const frames: string[] = [];
  let i = 0;
  let clock = Date.parse('2026-11-27T10:00:00Z');
  const reporter = new NeighborsReporter({
    link: {
      send: (type, body) => {
        if (options.linkUp && !options.linkUp()) return false;
        // Through the real codec, so a body the server would refuse fails the test.
        frames.push(codec.encode(type, body));
        return true;
      },
    },
    collect: async () => {
      const next = snapshots[Math.min(i++, snapshots.length - 1)];
      if (next instanceof Error) throw next;
      return next as NeighborsSnapshot;
    },
    logger: pino({ level: 'silent' }),
    now: () => clock,
  });
  const sent = () => frames.map((f) => JSON.parse(f) as { type: string; body: { neighbors: Neighbor[] } });
  return {
    reporter,
    sent,
    frames,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('NeighborsReporter', () => {
  it('reports on connect, and after a scan only when which devices are where changed', async () => {
    const a = { neighbors: [n('10.0.0.1')] };
    const aStale = { neighbors: [n('10.0.0.1', 'STALE')] };
    const b = { neighbors: [n('10.0.0.1'), n('10.0.0.2', 'STALE', '52:54:00:12:34:57')] };
    const { reporter, sent } = harness([a, aStale, b]);
    await reporter.connected();
    expect(sent().map((m) => m.type)).toEqual(['neighbors.report']);
    await reporter.scan();
    expect(sent()).toHaveLength(1);
    await reporter.scan();
    expect(sent()).toHaveLength(2);
    expect(sent()[1]?.body.neighbors.map((x) => x.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('reports again on every reconnect, and an unchanged table once it is old', async () => {
    const { reporter, sent, advance } = harness([{ neighbors: [n('10.0.0.1')] }]);
    await reporter.connected();
    await reporter.connected();
    expect(sent()).toHaveLength(2);
    advance(DEFAULT_RESEND_UNCHANGED_MS - 1);
    await reporter.scan();
    expect(sent()).toHaveLength(2);
    advance(1);
    await reporter.scan();
    expect(sent()).toHaveLength(3);
  });

  it('reports an empty table: the host sees no neighbours', async () => {
    const { reporter, sent } = harness([{ neighbors: [] }]);
    await reporter.connected();
    expect(sent()[0]?.body).toEqual({ neighbors: [] });
  });

  it('sends nothing when the tables cannot be read, and tries again on the next scan', async () => {
    const { reporter, sent } = harness([new Error('ip: permission denied'), { neighbors: [n('10.0.0.1')] }]);
    await expect(reporter.connected()).resolves.toBeUndefined();
    expect(sent()).toHaveLength(0);
    await reporter.scan();
    expect(sent()).toHaveLength(1);
  });

  it('does not count a report the link refused as sent', async () => {
    let up = false;
    const { reporter, sent } = harness([{ neighbors: [n('10.0.0.1')] }], { linkUp: () => up });
    await reporter.connected();
    expect(sent()).toHaveLength(0);
    up = true;
    await reporter.scan();
    expect(sent()).toHaveLength(1);
  });

  it('cuts a table that would not fit one frame, and what it sends is a valid frame', async () => {
    // The longest entries the schema allows: 45-character IPv6 and 64-character interface names.
    const long = Array.from({ length: MAX_NEIGHBORS }, (_, i) => ({
      ip: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.${(i >> 8) & 255}.${i & 255}`,
      mac: '52:54:00:12:34:56',
      interface: 'é'.repeat(64),
      state: 'PERMANENT',
    }));
    const { reporter, frames, sent } = harness([{ neighbors: long }]);
    await reporter.connected();
    expect(frames).toHaveLength(1);
    expect(Buffer.byteLength(frames[0] ?? '')).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    const count = sent()[0]?.body.neighbors.length ?? 0;
    expect(count).toBeGreaterThan(1000);
    expect(count).toBeLessThan(MAX_NEIGHBORS);
  });
});

describe('fitOneFrame', () => {
  it('keeps everything that fits and never more than MAX_NEIGHBORS', () => {
    const many = Array.from({ length: MAX_NEIGHBORS + 10 }, (_, i) => n(`10.0.${i >> 8}.${i & 255}`));
    expect(fitOneFrame(many)).toHaveLength(MAX_NEIGHBORS);
    expect(fitOneFrame(many.slice(0, 3))).toHaveLength(3);
    const one = Buffer.byteLength(JSON.stringify(many[0])) + 1;
    expect(fitOneFrame(many, 16 + 2 * one)).toHaveLength(2);
  });
});
