import { describe, expect, it } from 'vitest';
import { useFakeApi } from '../__fixtures__/fake-api.js';

const CREATED = { id: 'et-1', token: 'brier-join-abc123', expiresAt: '2024-05-02T12:00:00.000Z', maxUses: 5, autoApprove: true };
const TOKENS = [
  {
    id: 'et-1',
    createdAt: '2024-05-01T12:00:00.000Z',
    expiresAt: '2024-05-02T12:00:00.000Z',
    maxUses: 5,
    uses: 2,
    autoApprove: true,
    revokedAt: null,
    createdBy: 'alice',
  },
  {
    id: 'et-2',
    createdAt: '2024-04-01T12:00:00.000Z',
    expiresAt: null,
    maxUses: null,
    uses: 40,
    autoApprove: false,
    revokedAt: '2024-04-02T09:30:00.000Z',
    createdBy: 'bob',
  },
];

const { api, cli } = useFakeApi({
  'POST /api/v1/enrollment-tokens': { status: 201, body: CREATED },
  'GET /api/v1/enrollment-tokens': { body: { items: TOKENS } },
  'DELETE /api/v1/enrollment-tokens/et-1': { status: 204 },
});

describe('brier tokens create', () => {
  it('sends the chosen limits and prints the token with the exact enrol command', async () => {
    const { code, stdout } = await cli(['tokens', 'create', '--auto-approve', '--expires-in-hours', '24', '--max-uses', '5']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'POST', pathname: '/api/v1/enrollment-tokens' });
    expect(api.requests[0]?.body).toEqual({ autoApprove: true, expiresInHours: 24, maxUses: 5 });
    expect(stdout).toMatch(/^Token +brier-join-abc123$/m);
    expect(stdout).toMatch(/^Max uses +5$/m);
    expect(stdout).toContain(`\n  brier-agent enroll --server ${api.url} --token brier-join-abc123\n`);
  });

  it('sends an empty body when no limits are given, leaving defaults to the server', async () => {
    api.routes.set('POST /api/v1/enrollment-tokens', { status: 201, body: { ...CREATED, maxUses: null, autoApprove: false } });
    const { stdout } = await cli(['tokens', 'create']);
    expect(api.requests[0]?.body).toEqual({});
    expect(stdout).toMatch(/^Max uses +unlimited$/m);
    expect(stdout).toMatch(/^Auto-approve +no$/m);
  });

  it('quotes a token the shell would otherwise interpret', async () => {
    api.routes.set('POST /api/v1/enrollment-tokens', { status: 201, body: { ...CREATED, token: "a b;$(rm -rf ~)'" } });
    const { stdout } = await cli(['tokens', 'create']);
    expect(stdout).toContain(`--token 'a b;$(rm -rf ~)'\\'''\n`);
  });

  it('prints the server answer as JSON', async () => {
    const { stdout } = await cli(['tokens', 'create', '--json']);
    expect(JSON.parse(stdout)).toEqual(CREATED);
  });

  it('rejects a non-numeric limit with exit 2', async () => {
    const { code, stderr } = await cli(['tokens', 'create', '--max-uses', 'lots']);
    expect(code).toBe(2);
    expect(stderr).toContain('--max-uses must be an integer >= 1');
    expect(api.requests).toHaveLength(0);
  });
});

describe('brier tokens list and revoke', () => {
  it("prints JSON that parses to exactly the server's items", async () => {
    const { stdout } = await cli(['tokens', 'list', '--json']);
    expect(JSON.parse(stdout)).toEqual(TOKENS);
  });

  it('prints uses against the limit and when a token was revoked', async () => {
    const { stdout } = await cli(['tokens', 'list']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +CREATED +EXPIRES +USES +AUTO-APPROVE +REVOKED +CREATED BY$/);
    expect(lines[1]).toMatch(/^et-1 +2024-05-01T12:00:00Z +2024-05-02T12:00:00Z +2\/5 +yes +- +alice$/);
    expect(lines[2]).toMatch(/^et-2 +2024-04-01T12:00:00Z +never +40\/unlimited +no +2024-04-02T09:30:00Z +bob$/);
  });

  it('revokes a token by id', async () => {
    const { code, stdout } = await cli(['tokens', 'revoke', 'et-1']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'DELETE', rawUrl: '/api/v1/enrollment-tokens/et-1' });
    expect(stdout).toBe('Enrolment token et-1 revoked.\n');
  });
});
