/**
 * Console load benchmark: the real server (PostgreSQL by default) holding a simulated fleet of 10,000
 * hosts with their inventories, findings, policies and deployments, serving the built console to
 * Debian's headless Chromium. We time, with the browser's own clocks, how long each main screen takes
 * to show its data (the first chart, the first table row), cold (a fresh browser profile: nothing
 * cached) and warm (the same profile again), next to anchors: a static HTML page served from
 * loopback and the very API requests the screen made, timed from Node without a browser.
 * See bench/README.md ("Console load").
 *
 *   npm run bench:console -- [flags]
 *   node --import tsx bench/console-load.ts [--hosts N] [--packages N] [--records N] [--runs N] [--seed N] [--pglite]
 *
 * The console must be built first (npm run bundle -w @brier/console).
 */
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Actor } from '../packages/server/src/rollouts/deployments-service.js';
import { queryRows, sql } from '../packages/server/src/store/db.js';
import { createStores } from '../packages/server/src/store/index.js';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../packages/server/src/testing/test-server.js';
import { toRow } from '../packages/server/src/vulns/vulns-service.js';
import { launchBrowser, login, snapshotConsole } from '../test/support/browser.js';
import { createDatabase, dropDatabase, startPostgres } from '../test/support/postgres.js';
import { copyField } from './inventory-ingest.js';
import { positiveInt } from './support/args.js';
import { CatalogueRows } from './support/catalogue-rows.js';
import { type CopyTarget, copyRows } from './support/copy-rows.js';
import { generateFeed } from './support/synthetic-feed.js';
import { type FleetPackage, fleetPool, streamFleet } from './support/synthetic-fleet.js';
import { timed } from './support/timed.js';

export interface ConsoleLoadOptions {
  hosts: number;
  packages: number;
  records: number;
  /** Loads per screen and kind (cold, warm); the median is reported. */
  runs: number;
  seed: number;
  /** The test server's in-memory PGlite instead of a throwaway PostgreSQL (small sizes only). */
  pglite: boolean;
}

export function parseConsoleLoadArgs(argv: readonly string[]): ConsoleLoadOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      hosts: { type: 'string', default: '10000' },
      packages: { type: 'string', default: '1500' },
      records: { type: 'string', default: '2000' },
      runs: { type: 'string', default: '5' },
      seed: { type: 'string', default: '20240601' },
      pglite: { type: 'boolean', default: false },
    },
    strict: true,
  });
  return {
    hosts: positiveInt('hosts', values.hosts),
    packages: positiveInt('packages', values.packages),
    records: positiveInt('records', values.records),
    runs: positiveInt('runs', values.runs),
    seed: positiveInt('seed', values.seed),
    pglite: values.pglite,
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

const n = (x: number) => x.toLocaleString('en-US');
const s = (x: number) => (x < 10 ? x.toFixed(3) : x.toFixed(2));
const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(0));

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}

/** Host ids are derived from the host's index (as in vuln-matching), so a run is reproducible down to its ids. */
function hostUuid(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

const SITES = ['fra1', 'ams2', 'nyc3', 'sfo1'];
const ROLES = ['web', 'db', 'cache', 'batch', 'edge'];

// ---------------------------------------------------------------------------------------------
// Set-up: the fleet by COPY, the feed through the store and a real re-match, policies and
// deployments through the services.

interface Seeded {
  hostIds: string[];
  links: number;
  catalogue: number;
  findings: number;
  pool: readonly FleetPackage[];
}

const HOST_COLUMNS =
  'id, public_key, hostname, status, enrolled_at, approved_at, online, last_seen_at, os_platform, os_distro, os_release, ' +
  'os_codename, os_kernel, os_arch, facts, package_count, inventory_at';
const CATALOGUE_COLUMNS = 'id, ecosystem, name, version, arch, source, source_version';

async function seedFleet(server: TestServer, target: CopyTarget, options: ConsoleLoadOptions): Promise<Seeded> {
  const db = server.database.db;
  const generate = await timed(() => {
    const catalogue = new CatalogueRows();
    const catalogueLines = catalogue.lines;
    const hostLines: string[] = [];
    const attributeLines: string[] = [];
    const groupLines: string[] = [];
    const links: Uint32Array[] = [];
    const now = Date.now();
    let total = 0;
    let i = 0;
    for (const host of streamFleet({ hosts: options.hosts, packagesPerHost: options.packages, seed: options.seed })) {
      const ids = catalogue.idsOf(host.packages);
      links.push(ids);
      total += ids.length;
      const id = hostUuid(i);
      const online = i % 7 !== 0;
      const seen = new Date(now - (online ? (i % 60) * 1000 : (1 + (i % 96)) * 3_600_000)).toISOString();
      const enrolled = new Date(now - 30 * 86_400_000).toISOString();
      const facts = {
        hostname: host.hostname,
        os: {
          platform: 'linux',
          distro: 'Debian GNU/Linux',
          release: '12',
          codename: 'bookworm',
          kernel: '6.1.0-21-amd64',
          arch: host.arch,
        },
        hardware: { vendor: 'QEMU', model: 'Standard PC', cores: 2 + (i % 4) * 2, memoryBytes: (4 + (i % 4) * 4) * 1024 ** 3 },
        network: [{ name: 'eth0', ipv4: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`], ipv6: [] }],
        agentVersion: '0.1.0',
      };
      hostLines.push(
        `${[
          id,
          `bench-public-key-${i}`,
          host.hostname,
          'approved',
          enrolled,
          enrolled,
          online ? 't' : 'f',
          seen,
          'linux',
          'Debian GNU/Linux',
          '12',
          'bookworm',
          '6.1.0-21-amd64',
          host.arch,
          JSON.stringify(facts),
          String(ids.length),
          seen,
        ]
          .map(copyField)
          .join('\t')}\n`,
      );
      // A site for every host, an explicit risk tier for one in ten (the rest take their groups' or the default).
      attributeLines.push(`${id}\t${i % 10 === 0 ? String(1 + (i % 5)) : '\\N'}\t${SITES[i % SITES.length]}\n`);
      groupLines.push(`${id}\t${ROLES[i % ROLES.length]}\n`);
      if (i % 50 === 0) groupLines.push(`${id}\tpilot\n`);
      i++;
    }
    return { catalogueLines, hostLines, attributeLines, groupLines, links, total };
  });
  const { catalogueLines, hostLines, attributeLines, groupLines, links, total } = generate.value;
  const hostIds = links.map((_, i) => hostUuid(i));

  const copyHosts = await timed(async () => {
    await copyRows(target, `copy hosts (${HOST_COLUMNS}) from stdin`, hostLines);
    await copyRows(target, 'copy host_attributes (host_id, risk_tier, site) from stdin', attributeLines);
    await copyRows(target, 'copy host_groups (host_id, group_name) from stdin', groupLines);
  });
  const copyCatalogue = await timed(async () => {
    await copyRows(target, `copy software (${CATALOGUE_COLUMNS}) from stdin`, catalogueLines);
    await queryRows(db, sql`select setval(pg_get_serial_sequence('software', 'id'), (select max(id) from software))`);
  });
  function* linkLines(): Generator<string> {
    for (const [i, ids] of links.entries()) {
      const hostId = hostIds[i] as string;
      let chunk = '';
      for (const id of ids) chunk += `${hostId}\t${id}\n`;
      yield chunk;
    }
  }
  const copyLinks = await timed(() => copyRows(target, 'copy host_software (host_id, software_id) from stdin', linkLines()));
  await queryRows(db, sql`analyze`);
  console.log(
    `fleet:    ${n(hostIds.length)} hosts (sites, groups, some tiers), ${n(total)} links, ${n(catalogueLines.length)} catalogue rows: ` +
      `generated ${s(generate.seconds)}s, COPY hosts ${s(copyHosts.seconds)}s, catalogue ${s(copyCatalogue.seconds)}s, ` +
      `links ${s(copyLinks.seconds)}s (${n(Math.round(total / copyLinks.seconds))} rows/s)`,
  );

  // Findings: a synthetic feed aimed at the fleet's own packages, stored and matched by the real service.
  const pool = fleetPool({ hosts: options.hosts, packagesPerHost: options.packages, seed: options.seed });
  const feed = generateFeed({ records: options.records, seed: options.seed, pool });
  const stores = createStores(db);
  const matched = await timed(async () => {
    const rows = feed.advisories.map(toRow);
    for (let i = 0; i < rows.length; i += 500) await stores.vulns.upsertAdvisories(rows.slice(i, i + 500), new Date());
    return server.app.services.vulns.rematchAll();
  });
  await queryRows(db, sql`analyze`);
  console.log(
    `findings: ${n(feed.advisories.length)} records (${n(feed.aimed.length)} name fleet packages), full re-match: ` +
      `${n(matched.value.matches)} matches, ${n(matched.value.findings.open)} open findings; ${s(matched.seconds)}s`,
  );
  return { hostIds, links: total, catalogue: catalogueLines.length, findings: matched.value.findings.open, pool };
}

/** Two policies with compliance results for every host they target, written by COPY as agents' reports would leave them. */
async function seedPolicies(server: TestServer, target: CopyTarget, hostIds: readonly string[], actor: Actor): Promise<string> {
  const { seconds, value } = await timed(async () => {
    const policies = server.app.services.policies;
    const baseline = await policies.create(actor, {
      name: 'ssh baseline',
      mode: 'audit',
      rules: [
        { kind: 'package-installed', name: 'openssh-server' },
        { kind: 'service-running', name: 'ssh' },
      ],
      targets: { groups: ['web', 'db', 'cache'] },
    });
    const hardening = await policies.create(actor, {
      name: 'no telnet',
      mode: 'enforce',
      rules: [{ kind: 'package-absent', name: 'telnetd' }],
      targets: { groups: ['batch', 'edge'] },
    });
    const at = new Date().toISOString();
    const lines: string[] = [];
    for (const [i, hostId] of hostIds.entries()) {
      const role = ROLES[i % ROLES.length] as string;
      const status = (k: number) => (k % 23 === 0 ? 'error' : k % 6 === 0 ? 'noncompliant' : 'compliant');
      if (role === 'web' || role === 'db' || role === 'cache') {
        lines.push(`${hostId}\t${baseline.id}\t0\t1\tpackage-installed\t${status(i)}\tinstalled 1:9.2p1-2+deb12u3\t${at}\t${at}\n`);
        lines.push(`${hostId}\t${baseline.id}\t1\t1\tservice-running\t${status(i + 1)}\tactive (running)\t${at}\t${at}\n`);
      } else {
        lines.push(`${hostId}\t${hardening.id}\t0\t1\tpackage-absent\t${status(i + 2)}\tnot installed\t${at}\t${at}\n`);
      }
    }
    await copyRows(
      target,
      'copy compliance (host_id, policy_id, rule, policy_version, kind, status, detail, checked_at, since_at) from stdin',
      lines,
    );
    return lines.length;
  });
  return `2 policies, ${n(value)} compliance results; ${s(seconds)}s`;
}

/**
 * Deployments in flight: one over the `web` group, critical, approved by a second person and started;
 * one over `db`, critical, awaiting approval; one over `pilot` (awaiting approval too once the group is over the approval
 * threshold of 50 hosts, started at once below it).
 */
async function seedDeployments(server: TestServer, pool: readonly FleetPackage[], operator: Actor, approver: Actor): Promise<string> {
  const { seconds, value } = await timed(async () => {
    const deployments = server.app.services.deployments;
    const pkg = (k: number) => {
      const p = pool[k] as FleetPackage;
      return { name: p.name, version: (p.versions[0] as [string, string])[0] };
    };
    const big = await deployments.create(operator, {
      name: 'security updates: web',
      packages: [pkg(0), pkg(1)],
      targets: { groups: ['web'] },
      waves: [{ percent: 10 }, { percent: 50 }, { percent: 100 }],
      // Critical: it waits for a second person at any fleet size (a small --hosts is under the threshold).
      critical: true,
    });
    await deployments.approve(approver, big.id);
    await deployments.create(operator, { name: 'security updates: db', packages: [pkg(2)], targets: { groups: ['db'] }, critical: true });
    const pilot = await deployments.create(operator, { name: 'pilot: kernel', packages: [pkg(3)], targets: { groups: ['pilot'] } });
    await deployments.tick();
    const states = await Promise.all([big.id, pilot.id].map(async (id) => (await deployments.get(id)).state));
    return `3 deployments (web: ${states[0]}, db: awaiting approval, pilot: ${states[1]})`;
  });
  return `${value}; ${s(seconds)}s`;
}

/**
 * Where GET /api/v1/dashboard spends its time: the service calls it makes, one after another, each
 * timed in-process (median of 3). Diagnostic only; the route itself is timed from Node and the browser.
 */
async function dashboardParts(server: TestServer): Promise<string> {
  const services = server.app.services;
  const parts: Array<[string, () => Promise<unknown>]> = [
    ['hosts.counts', () => services.hosts.counts()],
    ['policies.fleetCompliance', () => services.policies.fleetCompliance()],
    ['vulns.exposureSummary', () => services.vulns.exposureSummary()],
    ['vulns.remediationTrend(30)', () => services.vulns.remediationTrend(30)],
    ['deployments.inFlight(8)', () => services.deployments.inFlight(8)],
  ];
  const out: string[] = [];
  for (const [name, call] of parts) {
    const times: number[] = [];
    for (let r = 0; r < 3; r++) times.push((await timed(call)).seconds * 1000);
    out.push(`${name} ${ms(median(times))} ms`);
  }
  return `${out.join(', ')} (the route's service calls, in-process, median of 3)`;
}

// ---------------------------------------------------------------------------------------------
// The browser side: marks taken by the page itself, Navigation and Resource Timing.

/**
 * Conditions checked in the page on every DOM change (a MutationObserver installed before the
 * page's own scripts); the first time each holds, `performance.now()` is kept: milliseconds since
 * the navigation started, on the browser's clock.
 */
const MARKS: Record<string, string> = {
  // The first chart drawn (recharts renders an <svg class="recharts-surface"> once it has data and a size).
  firstChart: `document.querySelector('svg.recharts-surface') !== null`,
  // The dashboard's cards (rendered once its data arrived; the charts inside draw after measuring their size).
  firstCard: `document.querySelector('main .cards .card') !== null`,
  // Every chart container (.chart) holds its svg.
  allCharts: `(() => { const c = document.querySelectorAll('.chart'); return c.length > 0 && [...c].every((e) => e.querySelector('svg.recharts-surface')); })()`,
  // The first row of the Hosts table once loaded (DataTable sets aria-busy="false" when its query settled).
  hostsRow: `document.querySelector('table[aria-label="Hosts"][aria-busy="false"] tbody tr') !== null`,
  // The first row of a host's Packages table once loaded.
  packagesRow: `document.querySelector('table[aria-label="Packages"][aria-busy="false"] tbody tr') !== null`,
  // A static page's table (the anchor has no aria-busy).
  staticRow: `document.querySelector('table tbody tr') !== null`,
};

const MARK_SCRIPT = `(() => {
  const marks = {};
  window.__benchMarks = marks;
  const checks = {${Object.entries(MARKS)
    .map(([name, expr]) => `${JSON.stringify(name)}: () => ${expr}`)
    .join(', ')}};
  const check = () => {
    for (const name in checks) {
      if (marks[name] !== undefined) continue;
      try { if (checks[name]()) marks[name] = performance.now(); } catch {}
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-busy', 'class'] });
  document.addEventListener('DOMContentLoaded', check);
})();`;

interface LoadFigures {
  /** ms from navigation start to the screen's ready mark. */
  ready: number;
  responseStart: number;
  domContentLoaded: number;
  load: number;
  marks: Record<string, number>;
  api: Array<{ path: string; start: number; end: number; bytes: number }>;
  transferBytes: number;
}

const COLLECT = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const api = resources
    .filter((r) => new URL(r.name).pathname.startsWith('/api/'))
    .map((r) => { const u = new URL(r.name); return { path: u.pathname + u.search, start: r.startTime, end: r.responseEnd, bytes: r.encodedBodySize }; });
  const transferBytes = (nav ? nav.transferSize : 0) + resources.reduce((sum, r) => sum + r.transferSize, 0);
  return {
    responseStart: nav ? nav.responseStart : NaN,
    domContentLoaded: nav ? nav.domContentLoadedEventEnd : NaN,
    load: nav ? nav.loadEventEnd : NaN,
    marks: window.__benchMarks || {},
    api,
    transferBytes,
  };
})()`;

async function measureLoad(page: Page, url: string, mark: string): Promise<LoadFigures> {
  await page.goto(url, { waitUntil: 'commit' });
  // A function, not a string: the console's CSP (no 'unsafe-eval') would refuse a string predicate.
  await page.waitForFunction((name) => (globalThis as { __benchMarks?: Record<string, number> }).__benchMarks?.[name] !== undefined, mark, {
    timeout: 60_000,
  });
  // Let the rest of the screen settle (other charts, lazy queries) so Resource Timing sees every request.
  await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
  const figures = (await page.evaluate(COLLECT)) as Omit<LoadFigures, 'ready'>;
  const ready = figures.marks[mark];
  if (ready === undefined) throw new Error(`${url}: mark ${mark} vanished`);
  return { ...figures, ready };
}

interface Screen {
  name: string;
  path: string;
  mark: string;
}

interface ScreenResult {
  screen: Screen;
  cold: LoadFigures[];
  warm: LoadFigures[];
  /** The API requests the screen made (from the last warm load), in the order the browser started them. */
  apiPaths: string[];
}

async function measureScreen(
  browser: Browser,
  baseUrl: string,
  storageState: Awaited<ReturnType<BrowserContext['storageState']>>,
  screen: Screen,
  runs: number,
): Promise<ScreenResult> {
  const url = baseUrl + screen.path;
  const cold: LoadFigures[] = [];
  const warm: LoadFigures[] = [];
  // Cold: a fresh profile each time (empty HTTP and code caches), signed in by its cookie.
  for (let r = 0; r < runs; r++) {
    const context = await browser.newContext({ storageState, viewport: { width: 1400, height: 900 } });
    await context.addInitScript({ content: MARK_SCRIPT });
    try {
      cold.push(await measureLoad(await context.newPage(), url, screen.mark));
    } finally {
      await context.close();
    }
  }
  // Warm: one profile, loaded once untimed, then again `runs` times.
  const context = await browser.newContext({ storageState, viewport: { width: 1400, height: 900 } });
  await context.addInitScript({ content: MARK_SCRIPT });
  try {
    const page = await context.newPage();
    await measureLoad(page, url, screen.mark);
    for (let r = 0; r < runs; r++) warm.push(await measureLoad(page, url, screen.mark));
  } finally {
    await context.close();
  }
  const last = warm[warm.length - 1] as LoadFigures;
  const apiPaths = [...last.api].sort((a, b) => a.start - b.start).map((a) => a.path);
  return { screen, cold, warm, apiPaths };
}

// ---------------------------------------------------------------------------------------------
// Anchors.

/** A static page with one 50-row table and no script, served from loopback: what a browser needs to show a table at all. */
async function startStaticServer(): Promise<{ url: string; server: Server }> {
  const rows = Array.from(
    { length: 50 },
    (_, i) => `<tr><td>bench-${String(i).padStart(5, '0')}</td><td>Debian GNU/Linux 12</td></tr>`,
  ).join('');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>static</title></head><body><h1>Hosts</h1><table><thead><tr><th>Host</th><th>OS</th></tr></thead><tbody>${rows}</tbody></table></body></html>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

async function measureStatic(browser: Browser, url: string, runs: number): Promise<{ cold: number[]; warm: number[] }> {
  const screen = { name: 'static', path: '', mark: 'staticRow' };
  const result = await measureScreen(browser, url.replace(/\/$/, ''), { cookies: [], origins: [] }, { ...screen, path: '/' }, runs);
  return { cold: result.cold.map((f) => f.ready), warm: result.warm.map((f) => f.ready) };
}

/**
 * The screen's API requests from Node (undici fetch, bearer token), as the console issues them:
 * /auth/me first (the console renders no screen before it knows who is signed in), then the rest at
 * once. Median of `runs` after one untimed round.
 */
async function apiAnchor(baseUrl: string, token: string, paths: readonly string[], runs: number): Promise<number> {
  const get = async (path: string) => {
    const res = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`anchor GET ${path}: ${res.status}`);
  };
  const first = paths.filter((p) => p.startsWith('/api/v1/auth/me'));
  const rest = paths.filter((p) => !p.startsWith('/api/v1/auth/me'));
  const round = async () => {
    for (const p of first) await get(p);
    await Promise.all(rest.map(get));
  };
  await round();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push((await timed(round)).seconds * 1000);
  return median(times);
}

// ---------------------------------------------------------------------------------------------
// Report.

interface Row {
  what: string;
  load: string;
  ms: number;
  anchor?: { name: string; ms: number };
}

function formatTable(rows: readonly Row[]): string {
  const header = ['screen', 'load', 'ms', 'anchor', 'anchor ms', 'ratio'];
  const body = rows.map((r) => [
    r.what,
    r.load,
    ms(r.ms),
    r.anchor?.name ?? '(anchor)',
    r.anchor ? ms(r.anchor.ms) : '',
    r.anchor ? `${(r.ms / r.anchor.ms).toFixed(1)}x` : '',
  ]);
  const numeric = new Set([2, 4, 5]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

function describeLoads(label: string, loads: readonly LoadFigures[]): string {
  const m = (pick: (f: LoadFigures) => number | undefined) => ms(median(loads.map(pick).filter((x): x is number => x !== undefined)));
  const apiEnd = (f: LoadFigures) => (f.api.length ? Math.max(...f.api.map((a) => a.end)) : undefined);
  const kb = median(loads.map((f) => f.transferBytes)) / 1024;
  return (
    `    ${label.padEnd(4)}: ready ${m((f) => f.ready)} ms (runs: ${loads.map((f) => ms(f.ready)).join(', ')}); ` +
    `first byte ${m((f) => f.responseStart)}, DOMContentLoaded ${m((f) => f.domContentLoaded)}, load ${m((f) => f.load)}, ` +
    `last API response ${m(apiEnd)}, first card ${m((f) => f.marks.firstCard)}, all charts ${m((f) => f.marks.allCharts)}; ` +
    `${kb.toFixed(0)} KiB transferred`
  );
}

// ---------------------------------------------------------------------------------------------
// The run.

export async function runConsoleLoad(options: ConsoleLoadOptions, command: string): Promise<void> {
  const cpu = cpus();
  console.log('# Console load: the web console over a simulated fleet, timed by the browser, next to a static page and the bare API');
  console.log(`command:  ${command}`);
  console.log(`date:     ${new Date().toISOString()}`);
  console.log(
    `machine:  node ${process.version}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, ` +
      `load average ${loadAverage()} at start`,
  );
  const browser = await launchBrowser();
  console.log(`browser:  Chromium ${browser.version()} (headless)`);
  const postgres = options.pglite ? undefined : await startPostgres();
  const databaseUrl = postgres ? await createDatabase(postgres.url, `brier_bench_console_${Date.now().toString(36)}`) : undefined;
  let server: TestServer | undefined;
  const statics = await startStaticServer();
  const consoleCopy = await snapshotConsole();
  const assets = await readdir(path.join(consoleCopy.dir, 'assets'));
  const sizes = await Promise.all(
    assets.map(async (a) => `${a} ${n(Math.round((await stat(path.join(consoleCopy.dir, 'assets', a))).size / 1024))} KiB`),
  );
  console.log(`console:  packages/console/dist (copied aside for the run): ${sizes.join(', ')}`);
  try {
    server = await createTestServer({ databaseUrl, config: { consoleDir: consoleCopy.dir } });
    const [version] = await queryRows<{ v: string }>(server.database.db, sql`select current_setting('server_version') as v`);
    console.log(
      `database: ${postgres ? `PostgreSQL ${version?.v ?? '?'}, ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'throwaway cluster (fsync=off)'}` : `PGlite (PostgreSQL ${version?.v ?? '?'}) in memory`}` +
        (process.env.PGOPTIONS ? `, PGOPTIONS=${process.env.PGOPTIONS}` : ''),
    );
    const target: CopyTarget = databaseUrl ? { kind: 'postgres', url: databaseUrl } : { kind: 'pglite', database: server.database };
    const seeded = await seedFleet(server, target, options);

    const auth = server.app.services.auth;
    const password = `bench-${randomUUID()}`;
    const operatorUser = await auth.createUser({ username: 'bench-operator', password, role: 'operator' });
    const approverUser = await auth.createUser({ username: 'bench-approver', password, role: 'approver' });
    const operator: Actor = { id: operatorUser.id, username: operatorUser.username, role: 'operator' };
    const approver: Actor = { id: approverUser.id, username: approverUser.username, role: 'approver' };
    console.log(`policies: ${await seedPolicies(server, target, seeded.hostIds, operator)}`);
    console.log(`rollouts: ${await seedDeployments(server, seeded.pool, operator, approver)}`);
    await queryRows(server.database.db, sql`analyze`);

    console.log(`dashboard: ${await dashboardParts(server)}`);

    const baseUrl = await server.listen();
    const token = await server.login();
    const index = await (await fetch(`${baseUrl}/`)).text();
    const script = /<script[^>]+src="([^"]+)"/.exec(index)?.[1] ?? '/';
    const asset = await fetch(baseUrl + script, { headers: { 'accept-encoding': 'gzip, br' } });
    await asset.arrayBuffer();
    console.log(
      `serving:  ${script}: content-encoding ${asset.headers.get('content-encoding') ?? 'none'}, cache-control ${asset.headers.get('cache-control') ?? 'none'}`,
    );
    // Signed in once through the form; every measured profile starts from this cookie.
    const signIn = await browser.newContext();
    const signInPage = await signIn.newPage();
    await login(signInPage, baseUrl, 'admin', ADMIN_PASSWORD);
    const storageState = await signIn.storageState();
    await signIn.close();

    const hostIndex = Math.min(4242, seeded.hostIds.length - 1);
    const screens: Screen[] = [
      { name: 'dashboard', path: '/', mark: 'firstChart' },
      { name: '/hosts (first page)', path: '/hosts', mark: 'hostsRow' },
      { name: '/hosts?q=bench-042 (search)', path: '/hosts?q=bench-042', mark: 'hostsRow' },
      { name: 'host page (packages)', path: `/hosts/${seeded.hostIds[hostIndex]}`, mark: 'packagesRow' },
    ];
    console.log(
      `loads:    each screen ${options.runs}x cold (fresh profile) and ${options.runs}x warm (same profile, after one untimed load); medians`,
    );
    const staticLoads = await measureStatic(browser, statics.url, options.runs);
    const staticCold = median(staticLoads.cold);
    const staticWarm = median(staticLoads.warm);
    console.log(`  static page (50-row table, no script): cold ${ms(staticCold)} ms, warm ${ms(staticWarm)} ms`);

    const rows: Row[] = [];
    const anchorRows: Row[] = [];
    for (const screen of screens) {
      const result = await measureScreen(browser, baseUrl, storageState, screen, options.runs);
      const api = await apiAnchor(baseUrl, token, result.apiPaths, options.runs);
      console.log(`  ${screen.name} (${screen.path}), ready = ${screen.mark}; API requests: ${result.apiPaths.join(', ') || 'none'}`);
      console.log(describeLoads('cold', result.cold));
      console.log(describeLoads('warm', result.warm));
      console.log(`    anchor: the ${result.apiPaths.length} API requests from Node: ${ms(api)} ms`);
      const cold = median(result.cold.map((f) => f.ready));
      const warm = median(result.warm.map((f) => f.ready));
      rows.push({ what: screen.name, load: 'cold', ms: cold, anchor: { name: 'static page + API', ms: staticCold + api } });
      rows.push({ what: screen.name, load: 'warm', ms: warm, anchor: { name: 'static page + API', ms: staticWarm + api } });
      anchorRows.push({ what: `API from Node: ${screen.name}`, load: '', ms: api });
    }
    rows.push(
      { what: 'static page, 50-row table', load: 'cold', ms: staticCold },
      { what: 'static page, 50-row table', load: 'warm', ms: staticWarm },
    );
    rows.push(...anchorRows);

    console.log(`load average ${loadAverage()} at end`);
    console.log('');
    console.log(formatTable(rows));
    console.log('');
    console.log(
      'ms = median time from navigation start to the screen showing its data (first chart drawn / first row of a loaded table), ' +
        "on the browser's clock. ratio = ms / (static page load + the same API requests from Node).",
    );
  } finally {
    await browser.close().catch(() => {});
    await new Promise<void>((resolve) => statics.server.close(() => resolve()));
    await consoleCopy.cleanup();
    await server?.close();
    if (postgres && databaseUrl) {
      await dropDatabase(postgres.url, databaseUrl).catch(() => {});
      await postgres.stop();
    }
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  await runConsoleLoad(parseConsoleLoadArgs(argv), ['node --import tsx bench/console-load.ts', ...argv].join(' '));
}
