import { describe, expect, it } from 'vitest';
import { rawControls, useFakeApi } from '../__fixtures__/fake-api.js';
import { macOperand } from './devices.js';

const DEVICES = [
  {
    mac: '3c:22:fb:10:20:30',
    ip: '10.20.0.5',
    firstSeenAt: '2026-11-20T08:00:00.000Z',
    lastSeenAt: '2026-11-27T10:00:00.000Z',
    seenBy: [
      { hostId: 'h-1', hostname: 'web-01' },
      { hostId: 'h-2', hostname: 'web-02' },
      { hostId: 'h-3', hostname: 'db-01' },
      { hostId: 'h-4', hostname: 'db-02' },
    ],
  },
  {
    mac: 'a4:91:b1:02:03:04',
    ip: '192.168.50.1',
    firstSeenAt: '2026-11-21T08:00:00.000Z',
    lastSeenAt: '2026-11-26T10:00:00.000Z',
    seenBy: [{ hostId: 'h-9', hostname: 'evil\u001b[31m' }],
    mark: { state: 'known', note: 'printer, 2nd floor', markedBy: 'alice', markedAt: '2026-11-22T08:00:00.000Z' },
  },
];

const { api, cli } = useFakeApi({
  'GET /api/v1/devices/unmanaged': { body: { items: DEVICES } },
  'PUT /api/v1/devices/3c%3A22%3Afb%3A10%3A20%3A30/mark': (req) => ({ body: { mac: '3c:22:fb:10:20:30', ...(req.body as object) } }),
});

describe('brier devices unmanaged', () => {
  it('lists devices with first and last seen and the agents that saw them', async () => {
    const { code, stdout } = await cli(['devices', 'unmanaged']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MAC +IP +FIRST SEEN +LAST SEEN +SEEN BY +MARK$/);
    expect(lines[1]).toMatch(/^3c:22:fb:10:20:30 +10\.20\.0\.5 +2026-11-20T08:00:00Z +2026-11-27T10:00:00Z +web-01, web-02, db-01 \+1 +-$/);
    expect(lines[2]).toMatch(/evil\\x1b\[31m +known \(printer, 2nd floor\)$/);
    expect(lines).toHaveLength(3);
    expect(rawControls(stdout)).toEqual([]);
  });

  it('asks for marked devices too with --all, and pages', async () => {
    await cli(['devices', 'unmanaged', '--all', '--limit', '50', '--offset', '100']);
    await cli(['devices', 'unmanaged']);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/devices/unmanaged?include=known%2Cignored&limit=50&offset=100');
    expect(api.requests[1]?.rawUrl).toBe('/api/v1/devices/unmanaged');
  });

  it("prints exactly the server's items under --json", async () => {
    expect(JSON.parse((await cli(['devices', 'unmanaged', '--json'])).stdout)).toEqual(DEVICES);
  });

  it('refuses bad paging with exit 2 before contacting the server', async () => {
    for (const args of [['--limit', '0'], ['--offset', 'x'], ['extra']]) {
      expect((await cli(['devices', 'unmanaged', ...args])).code, args.join(' ')).toBe(2);
    }
    expect(api.requests).toHaveLength(0);
  });
});

describe('brier devices mark', () => {
  it('marks a device known with a note, taking the MAC in either form', async () => {
    const { code, stdout } = await cli(['devices', 'mark', '3C-22-FB-10-20-30', 'known', '--note', 'lab switch']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({
      method: 'PUT',
      rawUrl: '/api/v1/devices/3c%3A22%3Afb%3A10%3A20%3A30/mark',
      body: { state: 'known', note: 'lab switch' },
    });
    expect(stdout).toBe('Device 3c:22:fb:10:20:30 marked known (lab switch).\n');
  });

  it("clears a mark with 'none', sending a null state", async () => {
    const { code, stdout } = await cli(['devices', 'mark', '3c:22:fb:10:20:30', 'none']);
    expect(code).toBe(0);
    expect(api.requests[0]?.body).toEqual({ state: null });
    expect(stdout).toBe('Device 3c:22:fb:10:20:30: mark cleared.\n');
  });

  it('refuses malformed MACs, unknown marks and bad notes before contacting the server', async () => {
    for (const args of [
      ['3c:22:fb:10:20', 'known'],
      ['3c:22:fb:10:20:30:40', 'known'],
      ['3c:22-fb:10:20:30', 'known'],
      ['zz:22:fb:10:20:30', 'known'],
      ['../../hosts', 'known'],
      ['3c:22:fb:10:20:30', 'trusted'],
      ['3c:22:fb:10:20:30'],
      ['3c:22:fb:10:20:30', 'none', '--note', 'x'],
      ['3c:22:fb:10:20:30', 'known', '--note', 'x\u001b[2J'],
      ['3c:22:fb:10:20:30', 'ignored', '--note', 'x'.repeat(501)],
    ]) {
      const { code, stderr } = await cli(['devices', 'mark', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier devices mark');
    }
    expect(api.requests).toHaveLength(0);
  });
});

describe('macOperand', () => {
  it('returns the lower-case colon form', () => {
    expect(macOperand('AA-BB-CC-DD-EE-FF', 'u')).toBe('aa:bb:cc:dd:ee:ff');
    expect(() => macOperand('aabb.ccdd.eeff', 'u')).toThrow(/six hex octets/);
  });
});
