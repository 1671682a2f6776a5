import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { problem, rawControls, tempConfigDir, testIo, useFakeApi } from '../__fixtures__/fake-api.js';
import { runCli } from '../run-cli.js';
import { type DeploymentProgress, progressLines, progressPrinter } from './deploy.js';

const ID = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';
const EVENTS = `/api/v1/deployments/${ID}/events`;

function progress(state: string, pilot: Record<string, number>, rest: Record<string, number> = {}): DeploymentProgress {
  return {
    id: ID,
    state,
    stateReason: state === 'halted' ? 'wave "pilot" below its success threshold' : 'started',
    waves: [
      { index: 0, name: 'pilot\u001b[31m\u202e', state: state === 'running' ? 'running' : 'passed', hostCount: 20, counts: pilot },
      { index: 1, name: 'rest', state: 'pending', hostCount: 4, counts: rest },
    ],
    summary: { total: 24 },
  };
}

const sse = (...events: DeploymentProgress[]) =>
  `: keep-alive\n\n${events.map((e) => `event: progress\ndata: ${JSON.stringify(e)}\n\n`).join('')}`;
const stream = (...events: DeploymentProgress[]) => ({ contentType: 'text/event-stream', body: sse(...events) });

const RUNNING = progress('running', { succeeded: 8, failed: 1, running: 3 });
const COMPLETED = progress('completed', { succeeded: 19, failed: 1 }, { succeeded: 4 });

const { api, cli } = useFakeApi({});

describe('brier deploy watch', () => {
  it('prints a progress bar per wave for each event and exits 0 once the deployment completes', async () => {
    api.routes.set(`GET ${EVENTS}`, stream(RUNNING, COMPLETED));
    const { code, stdout, stderr } = await cli(['deploy', 'watch', ID]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]?.headers.authorization).toBe('Bearer tok');
    expect(api.requests[0]?.headers.accept).toMatch(/text\/event-stream/);
    const blocks = stdout.split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain(`${ID} running (started)`);
    expect(blocks[0]).toContain('[#########-----------]  45% 9/20 succeeded 8 failed 1 (running)');
    expect(blocks[0]).toMatch(/wave 2 rest\s+\[-{20}\] {3}0% 0\/4 succeeded 0 failed 0 \(pending\)/);
    expect(blocks[1]).toContain(`${ID} completed`);
    expect(blocks[1]).toContain('[####################] 100% 20/20 succeeded 19 failed 1 (passed)');
    // Names come from users and agents: escaped, never raw controls.
    expect(stdout).toContain('pilot\\x1b[31m\\u202e');
    expect(rawControls(stdout)).toEqual([]);
  });

  it('exits 1 when the deployment halts or is aborted', async () => {
    for (const state of ['halted', 'aborted']) {
      api.routes.set(`GET ${EVENTS}`, stream(RUNNING, progress(state, { succeeded: 8, failed: 12 })));
      const { code, stdout } = await cli(['deploy', 'watch', ID]);
      expect(code, state).toBe(1);
      expect(stdout).toContain(`${ID} ${state}`);
    }
  });

  it('prints each update as one line of JSON under --json', async () => {
    api.routes.set(`GET ${EVENTS}`, stream(RUNNING, COMPLETED));
    const { code, stdout } = await cli(['deploy', 'watch', ID, '--json']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as DeploymentProgress).state)).toEqual(['running', 'completed']);
  });

  it('polls GET every 2 s when the server has no events route', { timeout: 10_000 }, async () => {
    let calls = 0;
    api.routes.set(`GET /api/v1/deployments/${ID}`, () => {
      calls += 1;
      return { body: { ...(calls === 1 ? RUNNING : COMPLETED), name: 'x', hosts: [] } };
    });
    const started = Date.now();
    const { code, stdout, stderr } = await cli(['deploy', 'watch', ID]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(api.requests.map((r) => r.pathname)).toEqual([EVENTS, `/api/v1/deployments/${ID}`, `/api/v1/deployments/${ID}`]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(stdout).toContain('(running)');
    expect(stdout).toContain(`${ID} completed`);
  });

  it('polls when the stream ends before the deployment does', async () => {
    api.routes.set(`GET ${EVENTS}`, stream(RUNNING));
    api.routes.set(`GET /api/v1/deployments/${ID}`, { body: COMPLETED });
    const { code, stdout } = await cli(['deploy', 'watch', ID]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${ID} completed`);
  });

  it('reports an unknown deployment and a refused token as errors', async () => {
    const unknown = await cli(['deploy', 'watch', ID]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not_found|Not found/);
    api.routes.set(`GET ${EVENTS}`, problem(401, 'Unauthorized', 'unauthorized', 'the token is not valid'));
    const refused = await cli(['deploy', 'watch', ID]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('the token is not valid');
  });

  it('lists watch in the usage and refuses a missing id', async () => {
    expect((await cli(['deploy', '--help'])).stdout).toContain('watch ID');
    expect((await cli(['deploy', 'watch'])).code).toBe(2);
  });
});

describe('brier deploy watch on a live stream', () => {
  it('shows each event as it arrives, before the stream ends', async () => {
    const seen: IncomingHttpHeaders[] = [];
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(RUNNING));
      // The second event only once the CLI has printed the first one.
      void released.then(() => res.end(sse(COMPLETED)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { dir, cleanup } = await tempConfigDir();
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const t = testIo({ configDir: dir, env: { BRIER_SERVER: url, BRIER_TOKEN: 'tok' } });
      const stdout = t.io.stdout;
      t.io.stdout = (s) => {
        stdout(s);
        if (s.includes('running')) release();
      };
      const code = await runCli(['deploy', 'watch', ID], t.io);
      expect(code).toBe(0);
      expect(seen[0]?.authorization).toBe('Bearer tok');
      expect(t.stdout().indexOf('running')).toBeLessThan(t.stdout().indexOf('completed'));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cleanup();
    }
  });
});

describe('progress rendering', () => {
  it('draws the documented line', () => {
    expect(progressLines(RUNNING)[1]).toBe('wave 1 pilot\\x1b[31m\\u202e [#########-----------]  45% 9/20 succeeded 8 failed 1 (running)');
  });

  it('redraws in place on a terminal and skips unchanged updates', () => {
    let out = '';
    const print = progressPrinter((s) => {
      out += s;
    }, true);
    print(RUNNING);
    expect(out).not.toContain('\u001b[3A');
    print(RUNNING);
    const once = out;
    print(COMPLETED);
    const redraw = out.slice(once.length);
    expect(redraw.startsWith('\u001b[3A')).toBe(true);
    expect(redraw.split('\r\u001b[2K')).toHaveLength(4);
    expect(redraw).toContain('100% 20/20');
  });

  it('survives malformed waves from the server', () => {
    const lines = progressLines({
      id: ID,
      state: 'running',
      stateReason: null,
      waves: [{ index: 0, name: 'w', state: 'running', hostCount: 0, counts: {} }],
    });
    expect(lines[1]).toContain('[--------------------]   0% 0/0');
  });
});
