import { describe, expect, it } from 'vitest';
import { problem, useFakeApi } from '../__fixtures__/fake-api.js';

const USERS = [
  { id: 'u-1', username: 'alice', role: 'admin', createdAt: '2024-01-01T00:00:00.000Z', disabled: false },
  { id: 'u-2', username: 'mallory\u001b[8m', role: 'viewer', createdAt: '2024-02-01T00:00:00.000Z', disabled: true },
];

const { api, cli } = useFakeApi({
  'GET /api/v1/users': { body: { items: USERS } },
  'POST /api/v1/users': (req) => {
    const body = req.body as { username: string; role: string };
    return {
      status: 201,
      body: { id: 'u-3', username: body.username, role: body.role, createdAt: '2024-05-01T00:00:00.000Z', disabled: false },
    };
  },
});

describe('brier users list', () => {
  it("prints JSON equal to the server's items", async () => {
    const { stdout } = await cli(['users', 'list', '--json']);
    expect(JSON.parse(stdout)).toEqual(USERS);
  });

  it('prints a table with escaped names', async () => {
    const { stdout } = await cli(['users', 'list']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +USERNAME +ROLE +CREATED +DISABLED$/);
    expect(lines[2]).toMatch(/^u-2 +mallory\\x1b\[8m +viewer +2024-02-01T00:00:00Z +yes$/);
  });
});

describe('brier users create', () => {
  it('creates a user with the password from stdin', async () => {
    const { code, stdout } = await cli(['users', 'create', '--username', 'carol', '--role', 'approver', '--password-stdin'], {
      stdin: 'correct horse\n',
    });
    expect(code).toBe(0);
    expect(api.requests[0]?.body).toEqual({ username: 'carol', password: 'correct horse', role: 'approver' });
    expect(stdout).toBe('Created user carol (approver), id u-3.\n');
  });

  it('asks for the password twice, hidden', async () => {
    const { code, prompts } = await cli(['users', 'create', '--username', 'carol', '--role', 'viewer'], { answers: ['pw-1', 'pw-1'] });
    expect(code).toBe(0);
    expect(prompts.every((p) => p.secret)).toBe(true);
    expect(prompts).toHaveLength(2);
    expect(api.requests[0]?.body).toEqual({ username: 'carol', password: 'pw-1', role: 'viewer' });
  });

  it('creates nothing when the two passwords differ', async () => {
    const { code, stderr } = await cli(['users', 'create', '--username', 'carol', '--role', 'viewer'], { answers: ['pw-1', 'pw-2'] });
    expect(code).toBe(2);
    expect(stderr).toContain('the passwords do not match');
    expect(api.requests).toHaveLength(0);
  });

  it('rejects an unknown role and missing flags with exit 2', async () => {
    for (const args of [
      ['--username', 'carol', '--role', 'root', '--password-stdin'],
      ['--role', 'viewer', '--password-stdin'],
      ['--username', 'carol', '--password-stdin'],
    ]) {
      const { code, stderr } = await cli(['users', 'create', ...args], { stdin: 'pw' });
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toContain('Usage: brier users create');
    }
    expect(api.requests).toHaveLength(0);
  });

  it('reports a conflict from the server with exit 1', async () => {
    api.routes.set('POST /api/v1/users', problem(409, 'Conflict', 'conflict', 'username taken'));
    const { code, stderr } = await cli(['users', 'create', '--username', 'alice', '--role', 'admin', '--password-stdin'], { stdin: 'pw' });
    expect(code).toBe(1);
    expect(stderr).toContain('Conflict: username taken (code conflict, HTTP 409)');
  });
});
