import { type HostFacts, inventoryHash, type Neighbor } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, RawAgentSocket, type TestServer } from '../packages/server/src/testing/test-server.js';
import { apiClient, databases } from './support/system.js';

/**
 * Discovery end to end: a real server (PGlite and PostgreSQL), two agents over real sockets that
 * authenticate like agents do, report their interfaces in their inventory facts and then their
 * neighbour tables. The unmanaged list must be exactly the addresses that belong to neither agent,
 * without the noise (broadcast, multicast, IPv6 link-local) and without what an operator marked.
 */

interface Device {
  mac: string;
  ip: string;
  firstSeenAt: string;
  lastSeenAt: string;
  seenBy: Array<{ hostId: string; hostname: string }>;
}

const ALPHA = { mac: '52:54:00:aa:00:01', ipv4: '192.168.50.11', ipv6: '2001:db8:50::11' };
const BRAVO = { mac: '52:54:00:bb:00:02', ipv4: '192.168.50.12', ipv6: '2001:db8:50::12' };
const ROUTER = { mac: '00:1a:2b:3c:4d:01', ipv4: '192.168.50.1', ipv6: '2001:db8:50::1' };
const PRINTER = { mac: '00:1a:2b:3c:4d:02', ipv4: '192.168.50.20' };
const CAMERA = { mac: '00:1a:2b:3c:4d:03', ipv4: '192.168.50.30' };

function facts(hostname: string, me: typeof ALPHA): HostFacts {
  return {
    hostname,
    os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', codename: 'bookworm' },
    hardware: {},
    network: [
      // As some collectors spell them: upper case, a prefix length, a zone.
      { name: 'eth0', mac: me.mac.toUpperCase(), ipv4: [`${me.ipv4}/24`], ipv6: [me.ipv6, `fe80::${hostname.length}%eth0`] },
      { name: 'lo', ipv4: ['127.0.0.1'], ipv6: ['::1'] },
    ],
    agentVersion: 'test',
  };
}

const seen = (mac: string, ip: string, state = 'REACHABLE'): Neighbor => ({ mac, ip, interface: 'eth0', state });

describe.each(databases())('discovery on $name', (db) => {
  let server: TestServer;
  let baseUrl: string;
  let api: ReturnType<typeof apiClient>;
  let url: string | undefined;
  const sockets: RawAgentSocket[] = [];

  beforeAll(async () => {
    url = await db.open();
    server = await createTestServer({ databaseUrl: url });
    baseUrl = await server.listen();
    api = apiClient(baseUrl, await server.login());
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.close();
    await db.drop(url);
  });

  /** Enrols, authenticates over the real socket and sends the inventory with these facts, as an agent does first. */
  async function agent(hostname: string, me: typeof ALPHA) {
    const { hostId, keys } = await server.enrollAgent(await server.createJoinToken({ autoApprove: true }), hostname);
    const sock = new RawAgentSocket(baseUrl);
    sockets.push(sock);
    await sock.opened();
    await sock.authenticate(hostId, keys.privateKeyPem, server.identity.fingerprint);
    await sock.next('auth.ok');
    sock.sendRaw(sock.codec.encode('desired-state.sync', { bundleSequence: 0, quarantineSequence: 0, isolated: false }));
    sock.sendRaw(
      sock.codec.encode('inventory.full', {
        snapshotId: `snap-${hostname}`,
        part: 0,
        parts: 1,
        hash: inventoryHash([]),
        facts: facts(hostname, me),
        packages: [],
      }),
    );
    await sock.next('inventory.ack');
    return { hostId, sock };
  }

  /** Sends the neighbour table, then a message the server answers, so the table is known to be stored. */
  async function report(sock: RawAgentSocket, neighbors: Neighbor[]) {
    sock.sendRaw(sock.codec.encode('neighbors.report', { neighbors }));
    sock.sendRaw(
      sock.codec.encode('updates.report', { updates: [], sources: [], collectedAt: new Date().toISOString(), truncated: false }),
    );
    await sock.next('updates.ack');
  }

  async function unmanaged(query = ''): Promise<Device[]> {
    const res = await api<{ items: Device[] }>('GET', `/api/v1/devices/unmanaged${query}`);
    expect(res.status).toBe(200);
    return res.body.items;
  }

  it('lists exactly the addresses that belong to no agent and are not marked, with who saw them', async () => {
    const alpha = await agent('alpha', ALPHA);
    const bravo = await agent('bravo', BRAVO);

    await report(alpha.sock, [
      seen(BRAVO.mac, BRAVO.ipv4),
      seen(BRAVO.mac, BRAVO.ipv6),
      seen(ROUTER.mac, ROUTER.ipv4),
      seen(ROUTER.mac, ROUTER.ipv6),
      seen(ROUTER.mac, 'fe80::1%eth0'),
      seen(PRINTER.mac, PRINTER.ipv4),
      seen('ff:ff:ff:ff:ff:ff', '192.168.50.255'),
      seen('01:00:5e:00:00:fb', '224.0.0.251'),
      seen('33:33:00:00:00:01', 'ff02::1'),
      seen('00:00:00:00:00:00', '192.168.50.99', 'INCOMPLETE'),
    ]);
    await report(bravo.sock, [
      seen(ALPHA.mac, ALPHA.ipv4),
      seen(ROUTER.mac, ROUTER.ipv4),
      seen(CAMERA.mac, CAMERA.ipv4),
      seen('00:1a:2b:3c:4d:09', '192.168.50.99', 'FAILED'),
    ]);

    const mark = await api('PUT', `/api/v1/devices/${PRINTER.mac}/mark`, { state: 'known', note: 'second floor printer' });
    expect(mark.status).toBe(200);

    const list = await unmanaged();
    const pairs = list.map((d) => `${d.mac} ${d.ip}`).sort();
    expect(pairs).toEqual([`${CAMERA.mac} ${CAMERA.ipv4}`, `${ROUTER.mac} ${ROUTER.ipv6}`, `${ROUTER.mac} ${ROUTER.ipv4}`].sort());
    const router = list.find((d) => d.ip === ROUTER.ipv4);
    expect(router?.seenBy).toEqual([
      { hostId: alpha.hostId, hostname: 'alpha' },
      { hostId: bravo.hostId, hostname: 'bravo' },
    ]);
    expect(list.find((d) => d.ip === CAMERA.ipv4)?.seenBy).toEqual([{ hostId: bravo.hostId, hostname: 'bravo' }]);
    expect(Date.parse(router?.firstSeenAt ?? '')).toBeLessThanOrEqual(Date.parse(router?.lastSeenAt ?? ''));

    // The marked printer comes back when asked for, and for good once its mark is cleared.
    expect((await unmanaged('?include=known')).map((d) => d.mac)).toContain(PRINTER.mac);
    expect((await api('PUT', `/api/v1/devices/${PRINTER.mac}/mark`, { state: null })).status).toBe(200);
    expect((await unmanaged()).map((d) => d.ip)).toContain(PRINTER.ipv4);

    // Seen again later: the first sighting stays, the last one moves.
    await new Promise((r) => setTimeout(r, 5));
    await report(bravo.sock, [seen(CAMERA.mac, CAMERA.ipv4)]);
    const camera = (await unmanaged()).find((d) => d.ip === CAMERA.ipv4);
    const before = list.find((d) => d.ip === CAMERA.ipv4);
    expect(camera?.firstSeenAt).toBe(before?.firstSeenAt);
    expect(Date.parse(camera?.lastSeenAt ?? '')).toBeGreaterThan(Date.parse(before?.lastSeenAt ?? ''));
  });
});
