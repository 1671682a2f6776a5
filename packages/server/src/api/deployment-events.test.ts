import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, sql } from '../store/db.js';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

interface Progress {
  id: string;
  state: string;
  stateReason: string;
  waves: Array<{ index: number; name: string; state: string; hostCount: number; counts: Record<string, number> }>;
  summary: Record<string, number>;
}

interface SseEvent {
  event: string;
  data: string;
}

/** Reads server-sent events off a live fetch response, one at a time; `comments` collects `:` lines. */
function sseReader(res: Response) {
  const body = res.body;
  if (body === null) throw new Error('no body');
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const comments: string[] = [];
  /** The next event, or undefined when the server ended the stream. */
  async function next(): Promise<SseEvent | undefined> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line);
          else if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        if (data.length === 0) continue;
        return { event, data: data.join('\n') };
      }
      const { value, done } = await reader.read();
      if (done) return undefined;
      buffer += value;
    }
  }
  async function progress(): Promise<Progress> {
    const e = await next();
    expect(e?.event).toBe('progress');
    return JSON.parse(e?.data ?? '{}') as Progress;
  }
  return { next, progress, comments, cancel: () => reader.cancel() };
}

describe('GET /api/v1/deployments/{id}/events', () => {
  let s: TestServer;
  let base = '';
  let token = '';
  let hostId = '';

  const deploy = async (name: string) => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        name,
        packages: [{ name: 'openssl', version: '3.0.13-1~deb12u1' }],
        targets: { hostIds: [hostId] },
        waves: [{ name: 'all', percent: 100, bakeMinutes: 0 }],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json<{ id: string }>().id;
    await s.app.services.deployments.tick();
    return id;
  };
  const assignmentOf = async (deploymentId: string) => {
    const [row] = await queryRows<{ id: string }>(s.database.db, sql`select id from assignments where deployment_id = ${deploymentId}`);
    return row?.id ?? '';
  };
  const watch = (id: string) => fetch(`${base}/api/v1/deployments/${id}/events`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    s = await createTestServer({ config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000 } });
    token = await s.login();
    ({ hostId } = await s.enrollAgent(await s.createJoinToken({ autoApprove: true, maxUses: 1 }), 'web-01'));
    base = await s.listen();
  });
  afterAll(async () => {
    await s.close();
  });

  it('streams the current progress, then each change, and ends once the deployment completes', async () => {
    const id = await deploy('watched');
    const res = await watch(id);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const sse = sseReader(res);

    const first = await sse.progress();
    expect(first).toMatchObject({ id, state: 'running', summary: { total: 1 } });
    expect(first.waves).toEqual([expect.objectContaining({ index: 0, name: 'all', state: 'running', hostCount: 1 })]);
    expect(Object.keys(first)).toEqual(['id', 'state', 'stateReason', 'waves', 'summary']);

    const assignmentId = await assignmentOf(id);
    await s.app.services.deployments.onAssignmentStatus(hostId, { assignmentId, state: 'running' });
    const running = await sse.progress();
    expect(running.state).toBe('running');
    expect(running.waves[0]?.counts).toMatchObject({ running: 1 });

    await s.app.services.deployments.onAssignmentStatus(hostId, {
      assignmentId,
      state: 'succeeded',
      installed: [{ name: 'openssl', version: '3.0.13-1~deb12u1' }],
    });
    const done = await sse.progress();
    expect(done.state).toBe('completed');
    expect(done.waves[0]).toMatchObject({ state: 'passed', counts: { succeeded: 1 } });
    expect(await sse.next()).toBeUndefined();
  });

  it('ends after an abort, and sends a finished deployment once and closes', async () => {
    const id = await deploy('aborted');
    const sse = sseReader(await watch(id));
    expect((await sse.progress()).state).toBe('running');
    const res = await s.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${id}/abort`,
      headers: { authorization: `Bearer ${token}` },
      payload: { reason: 'wrong package' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect((await sse.progress()).state).toBe('aborted');
    expect(await sse.next()).toBeUndefined();

    const again = sseReader(await watch(id));
    expect((await again.progress()).state).toBe('aborted');
    expect(await again.next()).toBeUndefined();
  });

  it('coalesces a burst of changes and ignores other deployments', async () => {
    const id = await deploy('bursty');
    const other = await deploy('other');
    const sse = sseReader(await watch(id));
    await sse.progress();
    const started = Date.now();
    await Promise.all(Array.from({ length: 20 }, () => s.app.services.deployments.tick()));
    await s.app.services.deployments.onAssignmentStatus(hostId, { assignmentId: await assignmentOf(other), state: 'running' });
    await s.app.services.deployments.onAssignmentStatus(hostId, { assignmentId: await assignmentOf(id), state: 'running' });
    const next = await sse.progress();
    expect(next.waves[0]?.counts).toMatchObject({ running: 1 });
    expect(Date.now() - started).toBeLessThan(5_000);
    await sse.cancel();
    // The disconnected watcher is gone: later changes must not throw or write to a closed socket.
    await s.app.services.deployments.tick();
  });

  it('answers an unknown id with a 404 problem and no token with 401', async () => {
    const unknown = await s.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${randomUUID()}/events`,
      headers: { authorization: `Bearer ${token}` },
    });
    expectProblem(unknown, 404, 'not_found');
    const anonymous = await s.app.inject({ method: 'GET', url: `/api/v1/deployments/${randomUUID()}/events` });
    expect(anonymous.statusCode).toBe(401);
    const viaFetch = await fetch(`${base}/api/v1/deployments/${randomUUID()}/events`);
    expect(viaFetch.status).toBe(401);
    await viaFetch.body?.cancel();
  });
});
