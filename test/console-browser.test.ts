import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AptExecutor } from '../packages/agent/src/executors/apt.linux.js';
import { runCommand } from '../packages/agent/src/run-command.js';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../packages/server/src/testing/test-server.js';
import { type AptSandbox, aptAvailable, createAptSandbox } from './support/apt-sandbox.js';
import {
  browserUnavailable,
  launchBrowser,
  login,
  newPage,
  problems,
  type RecordedPage,
  recordOf,
  screenshot,
  snapshotConsole,
} from './support/browser.js';
import { apiClient, eventually, startRealAgent, tempDir } from './support/system.js';

/**
 * The operator console in Debian's headless Chromium, against the whole system: the real server
 * serving the built console, a real agent with a real apt and dpkg in a private root, simulated
 * agents whose reported hostnames are hostile. One server, one browser, one agent for the file.
 *
 * Screens are found the way a person (or a screen reader) finds them: headings, buttons by their
 * text, tables by their accessible name, fields by their label. Screenshots of every main screen go
 * to test-results/screenshots/.
 */
const unavailable = browserUnavailable();
const hasApt = process.env.CI === 'true' || (await aptAvailable());
const skipReason = unavailable ?? (hasApt ? null : 'apt-get, dpkg and dpkg-deb are needed for the real agent (Debian)');

const XSS_HOSTNAME = '<img src=x onerror=alert(1)>';
const BIDI_HOSTNAME = 'invoice\u202Egpj.exe';
const BIDI_SHOWN = 'invoice⟨U+202E⟩gpj.exe';
const PASSWORD = 'a-long-password-for-browser-tests';
/** Generous: the machine is shared with other suites; nothing here is a timing assertion. */
const UI_TIMEOUT = 30_000;

/** 401s of /auth/me before signing in are how the console learns nobody is signed in. */
const EXPECTED_HTTP = [/^401 GET .*\/api\/v1\/auth\/me$/];

describe.skipIf(skipReason !== null)('the console in a real browser', () => {
  let server: TestServer;
  let baseUrl: string;
  let browser: Browser;
  let api: ReturnType<typeof apiClient>;
  let adminToken: string;
  let sandbox: AptSandbox;
  let hostId: string;
  let hostname: string;
  let xssHostId: string;
  let release: string;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const pages: RecordedPage[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];

  const signedIn = new Map<string, Page>();
  /**
   * The page of `username`, signed in through the form on first use (each user in a browser context
   * of their own: their own cookies) and reused after, as a person keeps their tab open.
   */
  async function as(username: 'admin' | 'olivia' | 'arthur'): Promise<Page> {
    const known = signedIn.get(username);
    if (known) return known;
    const recorded = await newPage(browser);
    pages.push(recorded);
    await login(recorded.page, baseUrl, username, username === 'admin' ? ADMIN_PASSWORD : PASSWORD);
    signedIn.set(username, recorded.page);
    return recorded.page;
  }

  beforeAll(async () => {
    const consoleCopy = await snapshotConsole();
    cleanups.push(consoleCopy.cleanup);
    server = await createTestServer({
      config: {
        // Any deployment needs a second person: the approval flow is the one under test.
        approvalHostThreshold: 0,
        consoleDir: consoleCopy.dir,
        // A handful of sign-ins within a minute; the login rate limit has tests of its own.
        loginAttemptsPerMinute: 1000,
      },
    });
    baseUrl = await server.listen();
    browser = await launchBrowser();
    adminToken = await server.login();
    api = apiClient(baseUrl, adminToken);
    await server.app.services.auth.createUser({ username: 'olivia', password: PASSWORD, role: 'operator' });
    await server.app.services.auth.createUser({ username: 'arthur', password: PASSWORD, role: 'approver' });

    sandbox = await createAptSandbox({
      packages: [
        { name: 'brier-hello', version: '1.0-1' },
        { name: 'brier-hello', version: '1.0-2', suite: 'bookworm-security' },
        { name: 'brier-tls', version: '2.1-1' },
        { name: 'brier-tls', version: '2.1-2', suite: 'bookworm-security' },
        { name: 'brier-utils', version: '0.9-1' },
      ],
      installed: [
        { name: 'brier-hello', version: '1.0-1' },
        { name: 'brier-tls', version: '2.1-1' },
        { name: 'brier-utils', version: '0.9-1' },
      ],
    });
    cleanups.push(() => sandbox.cleanup());
    const state = await tempDir('brier-agent-');
    cleanups.push(state.cleanup);
    const joinToken = await server.createJoinToken({ autoApprove: true });
    const { agent, identity } = await startRealAgent({
      baseUrl,
      stateDir: state.dir,
      joinToken,
      dpkgAdmindir: sandbox.dpkgAdmindir,
      apt: { aptOptions: sandbox.aptOptions, env: sandbox.env },
      executors: {
        dpkg: new AptExecutor({
          run: runCommand,
          root: sandbox.root,
          aptOptions: sandbox.aptOptions,
          dpkgOptions: sandbox.dpkgOptions,
          env: sandbox.env,
        }),
      },
    });
    cleanups.push(() => agent.stop());
    hostId = identity.hostId;
    // Its inventory and its pending updates, as the console will show them.
    await eventually(
      async () => {
        const patches = await api<{ items: Array<{ hostCount: number }> }>('GET', '/api/v1/patches?q=brier-hello');
        const host = await api<{ inventoryAt: string | null }>('GET', `/api/v1/hosts/${hostId}`);
        return patches.body.items[0]?.hostCount === 1 && host.body.inventoryAt ? true : undefined;
      },
      60_000,
      'the agent to report its inventory and pending updates',
    );
    const host = (await api<{ hostname: string; os: { release: string } }>('GET', `/api/v1/hosts/${hostId}`)).body;
    hostname = host.hostname;
    release = /^\d+/.exec(host.os.release)?.[0] ?? '12';

    // Simulated agents whose reported hostnames are hostile.
    xssHostId = (await server.enrollAgent(undefined, XSS_HOSTNAME)).hostId;
    await server.enrollAgent(undefined, BIDI_HOSTNAME);

    // The rollout engine's tick (main.ts schedules it every 5 s), faster here; single-flight.
    let ticking = false;
    ticker = setInterval(() => {
      if (ticking) return;
      ticking = true;
      server.app.services.deployments
        .tick()
        .catch(() => {})
        .finally(() => {
          ticking = false;
        });
    }, 300);
  });

  afterAll(async () => {
    if (ticker) clearInterval(ticker);
    await browser?.close();
    for (const c of cleanups.reverse()) await c();
    await server?.close();
  });

  it('signs in through the form and shows the dashboard as charts', async () => {
    const page = await as('admin');
    await expectHeading(page, 'Dashboard');
    await page.locator('svg.recharts-surface').first().waitFor({ timeout: UI_TIMEOUT });
    await screenshot(page, 'dashboard');
  });

  it('lists the enrolled host, opens it, and searches its packages on the server', async () => {
    const page = await as('admin');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Hosts', exact: true }).click();
    await expectHeading(page, 'Hosts');
    const table = page.getByRole('table', { name: 'Hosts' });
    const link = table.getByRole('link', { name: hostname, exact: true });
    await link.waitFor({ timeout: UI_TIMEOUT });
    await screenshot(page, 'hosts');

    await link.click();
    await page.waitForURL(`**/hosts/${hostId}**`);
    await expectHeading(page, hostname);
    const packages = await openPackages(page);
    await expect.poll(() => rowsWith(packages, 'brier-hello').count(), { timeout: UI_TIMEOUT }).toBe(1);
    expect(await rowsWith(packages, 'brier-utils').count()).toBe(1);

    // The search goes to the server (GET .../software?q=utils) and the table shows what it answered.
    const searched = page.waitForRequest((r) => r.url().includes(`/api/v1/hosts/${hostId}/software`) && r.url().includes('q=utils'));
    await page.getByRole('searchbox', { name: 'Search packages' }).fill('utils');
    await searched;
    await expect.poll(() => rowsWith(packages, 'brier-hello').count(), { timeout: UI_TIMEOUT }).toBe(0);
    expect(await rowsWith(packages, 'brier-utils').count()).toBe(1);
    await screenshot(page, 'host');
  });

  it('shows a hostile hostname as text, and invisible characters as visible markers', async () => {
    const page = await as('admin');
    const dialogs = recordOf(page).dialogs.length;
    await page.goto(`${baseUrl}/hosts`);
    const table = page.getByRole('table', { name: 'Hosts' });
    await table.getByText(XSS_HOSTNAME, { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    expect(await table.locator('img').count()).toBe(0);
    await table.getByText(BIDI_SHOWN, { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    expect(await table.textContent()).not.toContain('\u202E');
    await screenshot(page, 'hosts-hostile-names');

    await table.getByRole('link', { name: XSS_HOSTNAME, exact: true }).click();
    await page.waitForURL(`**/hosts/${xssHostId}**`);
    await expectHeading(page, XSS_HOSTNAME);
    expect(await page.locator('main img').count()).toBe(0);
    expect(recordOf(page).dialogs.length).toBe(dialogs);
    expect(recordOf(page).cspViolations).toEqual([]);
  });

  it('creates a deployment as an operator, approves it as an approver, and watches it complete live', async () => {
    const operator = await as('olivia');
    await operator.goto(`${baseUrl}/deployments/new`);
    await expectHeading(operator, 'New deployment');
    await fillNewDeployment(operator, { name: 'brier-hello security fix', packages: 'brier-hello=1.0-2', hostname });
    await operator.getByRole('button', { name: 'Preview' }).click();
    const preview = operator.getByRole('region', { name: /preview/i });
    await preview.getByText(hostname, { exact: true }).first().waitFor({ timeout: UI_TIMEOUT });
    await preview.getByText('1.0-2').first().waitFor({ timeout: UI_TIMEOUT });
    await screenshot(operator, 'new-deployment');
    await operator.getByRole('button', { name: 'Create deployment' }).click();
    await operator.waitForURL(/\/deployments\/[0-9a-f-]{36}$/, { timeout: UI_TIMEOUT });
    const deploymentId = /\/deployments\/([0-9a-f-]{36})$/.exec(operator.url())?.[1] ?? '';
    await expectHeading(operator, 'brier-hello security fix');
    await stateShown(operator, /awaiting approval/i);
    // A marker in the document: it survives only if the page is never reloaded.
    await operator.evaluate('window.__brierNoReload = true');

    const approver = await as('arthur');
    await approver.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approvals' }).click();
    await expectHeading(approver, 'Approvals');
    const row = approver.getByRole('row').filter({ hasText: 'brier-hello security fix' });
    await row.waitFor({ timeout: UI_TIMEOUT });
    await screenshot(approver, 'approvals');
    await row.getByRole('button', { name: 'Approve' }).click();
    // Approved, it leaves the queue.
    await row.waitFor({ state: 'detached', timeout: UI_TIMEOUT });

    // The operator's page follows the rollout over the console socket: no reload.
    await stateShown(operator, /completed/i, 90_000);
    expect(await operator.evaluate('window.__brierNoReload === true')).toBe(true);
    const hosts = operator.getByRole('table', { name: 'Hosts in deployment' });
    await hosts
      .getByText(/succeeded/i)
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await screenshot(operator, 'deployment');
    expect((await sandbox.installedVersions()).get('brier-hello')).toBe('1.0-2');
    const done = await api<{ state: string; approvedBy: { username: string } | null }>('GET', `/api/v1/deployments/${deploymentId}`);
    expect(done.body).toMatchObject({ state: 'completed', approvedBy: { username: 'arthur' } });
  });

  it('shows a finding and remediates it into a deployment', async () => {
    const record = {
      schema_version: '1.6.0',
      id: 'DEBIAN-CVE-2099-4242',
      modified: '2026-11-01T00:00:00Z',
      aliases: ['CVE-2099-4242'],
      summary: 'brier-tls: a hole in the handshake',
      affected: [
        {
          package: { ecosystem: `Debian:${release}`, name: 'brier-tls' },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.1-2' }] }],
        },
      ],
    };
    const upload = await fetch(`${baseUrl}/api/v1/vulnerabilities/imports?kind=osv&name=browser.json`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/octet-stream' },
      body: JSON.stringify([record]),
    });
    expect(upload.status, await upload.clone().text()).toBe(200);
    await server.app.services.vulns.idle();

    // On the host: the finding, with the explanation of why it applies.
    const page = await as('olivia');
    await page.goto(`${baseUrl}/hosts/${hostId}?tab=findings`);
    const findings = page.getByRole('table', { name: 'Findings' });
    await findings.getByText('DEBIAN-CVE-2099-4242').first().waitFor({ timeout: UI_TIMEOUT });
    await findings.getByRole('button', { name: 'Explain DEBIAN-CVE-2099-4242 in brier-tls' }).click();
    await page
      .getByRole('region', { name: 'Explanation of DEBIAN-CVE-2099-4242' })
      .getByText(/2\.1-1 < 2\.1-2/)
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await screenshot(page, 'host-findings');

    // Across the fleet: the Vulnerabilities screen, the record's page, and Remediate.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vulnerabilities' }).click();
    await expectHeading(page, 'Vulnerabilities');
    const row = rowsWith(page.getByRole('table', { name: 'Vulnerabilities' }), 'brier-tls: a hole in the handshake');
    await row.waitFor({ timeout: UI_TIMEOUT });
    expect(await row.getByRole('cell', { name: '1', exact: true }).count()).toBeGreaterThan(0);
    await screenshot(page, 'vulnerabilities');
    await row.getByRole('link', { name: 'DEBIAN-CVE-2099-4242' }).click();
    await expectHeading(page, 'DEBIAN-CVE-2099-4242');
    await page
      .getByRole('table', { name: 'Affected hosts' })
      .getByRole('link', { name: hostname, exact: true })
      .waitFor({ timeout: UI_TIMEOUT });
    await screenshot(page, 'vulnerability');
    await page.getByRole('button', { name: 'Remediate' }).click();
    // The confirmation is in the page (a dialog element, never window.confirm).
    await page
      .getByRole('dialog', { name: /Remediate/ })
      .getByRole('button', { name: 'Confirm remediation' })
      .click();
    await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/, { timeout: UI_TIMEOUT });
    const id = /\/deployments\/([0-9a-f-]{36})$/.exec(page.url())?.[1] ?? '';
    const created = await api<{ state: string; spec?: unknown; packages?: Array<{ name: string }> }>('GET', `/api/v1/deployments/${id}`);
    expect(created.status).toBe(200);
    expect(JSON.stringify(created.body)).toContain('brier-tls');
    await page.getByRole('heading', { level: 1 }).waitFor({ timeout: UI_TIMEOUT });
    await screenshot(page, 'remediation-deployment');
  });

  it.each([
    ['policies', '/policies', 'Policies'],
    ['compliance', '/compliance', 'Compliance'],
    ['devices', '/devices', /unmanaged devices|devices/i],
    ['audit', '/audit', /audit/i],
    ['settings', '/settings', 'Settings'],
    ['patches', '/patches', 'Patches'],
    ['deployments', '/deployments', 'Deployments'],
    ['quarantine', '/quarantine', 'Quarantine'],
    // Again after the flows above: a finding, deployments, a fuller picture.
    ['dashboard-after', '/', 'Dashboard'],
  ] as const)('shows the %s screen', async (name, path, heading) => {
    const page = await as('admin');
    await page.goto(baseUrl + path);
    await expectHeading(page, heading);
    await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
    // Every request the screen made was answered: no error box (role="alert").
    expect(await page.getByRole('main').getByRole('alert').allTextContents()).toEqual([]);
    await screenshot(page, name);
  });

  it('serves the console under a strict CSP and checks the Origin of its socket', async () => {
    const index = await fetch(`${baseUrl}/hosts/${hostId}`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');

    const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: baseUrl },
      body: JSON.stringify({ username: 'olivia', password: PASSWORD }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^brier_session=/);
    const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/api/v1/console/ws`;
    expect(await upgrade(wsUrl, { cookie, origin: 'https://evil.example' })).toBe(403);
    expect(await upgrade(wsUrl, { cookie })).toBe(403);
    expect(await upgrade(wsUrl, { cookie, origin: baseUrl })).toBe(101);
  });

  it('raised no page errors, CSP violations, dialogs or unexpected failed requests on any page', () => {
    const found = pages.flatMap(({ page, record }) => problems(record, EXPECTED_HTTP).map((p) => `${page.url()}: ${p}`));
    expect(found).toEqual([]);
  });
});

if (skipReason !== null) it('the console in a real browser', ({ skip }) => skip(skipReason));

async function expectHeading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name, exact: typeof name === 'string' }).waitFor({ timeout: UI_TIMEOUT });
}

/** The deployment's state as its page shows it (a badge or the state line), polled until it matches. */
async function stateShown(page: Page, state: RegExp, timeout = UI_TIMEOUT): Promise<void> {
  await page.getByTestId('deployment-state').filter({ hasText: state }).waitFor({ timeout });
}

/** Rows of `table` with a cell reading exactly `text`. */
function rowsWith(table: Locator, text: string): Locator {
  return table.getByRole('row').filter({ has: table.page().getByRole('cell', { name: text, exact: true }) });
}

/** The host page's package list: its Packages tab (if tabs) and its table. */
async function openPackages(page: Page): Promise<Locator> {
  const tab = page.getByRole('tab', { name: /packages|inventory/i });
  if ((await tab.count()) > 0) await tab.first().click();
  return page.getByRole('table', { name: /packages|inventory|software/i });
}

async function fillNewDeployment(page: Page, input: { name: string; packages: string; hostname: string }): Promise<void> {
  const form = page.getByRole('form', { name: 'New deployment' });
  await form.getByLabel('Name', { exact: true }).fill(input.name);
  await form.getByLabel('Packages', { exact: true }).fill(input.packages);
  // Hosts are searched on the server and added from the matches.
  await form.getByLabel('Find hosts').fill(input.hostname);
  await form.getByRole('button', { name: `Add host ${input.hostname}`, exact: true }).click();
  await form.getByRole('list', { name: 'Selected hosts' }).getByText(input.hostname, { exact: true }).waitFor({ timeout: UI_TIMEOUT });
}

/** The HTTP status of a WebSocket upgrade (101 when it opened). */
function upgrade(url: string, headers: { cookie: string; origin?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { cookie: headers.cookie }, ...(headers.origin ? { origin: headers.origin } : {}) });
    ws.on('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', reject);
  });
}
