import { describe, expect, it } from 'vitest';
import { useFakeApi } from '../__fixtures__/fake-api.js';

const CREATED = { id: 'at-1', token: 'brier-api-xyz', name: 'ci pipeline', expiresAt: '2024-08-01T00:00:00.000Z' };
const TOKENS = [
  { id: 'at-1', name: 'ci pipeline', createdAt: '2024-05-01T00:00:00.000Z', expiresAt: null, lastUsedAt: null },
  {
    id: 'at-2',
    name: 'grafana',
    createdAt: '2024-04-01T00:00:00.000Z',
    expiresAt: '2025-01-01T00:00:00.000Z',
    lastUsedAt: '2024-05-01T10:00:00.000Z',
  },
];

const { api, cli } = useFakeApi({
  'POST /api/v1/api-tokens': { status: 201, body: CREATED },
  'GET /api/v1/api-tokens': { body: { items: TOKENS } },
  'DELETE /api/v1/api-tokens/at-1': { status: 204 },
});

describe('brier api-tokens', () => {
  it('creates a token with a name and lifetime and shows it once', async () => {
    const { code, stdout } = await cli(['api-tokens', 'create', '--name', 'ci pipeline', '--expires-in-days', '90']);
    expect(code).toBe(0);
    expect(api.requests[0]?.body).toEqual({ name: 'ci pipeline', expiresInDays: 90 });
    expect(stdout).toMatch(/^Token +brier-api-xyz$/m);
    expect(stdout).toContain('shown only this once');
  });

  it('requires --name', async () => {
    const { code, stderr } = await cli(['api-tokens', 'create']);
    expect(code).toBe(2);
    expect(stderr).toContain('--name is required');
    expect(api.requests).toHaveLength(0);
  });

  it('prints the created token as JSON', async () => {
    const { stdout } = await cli(['api-tokens', 'create', '--name', 'x', '--json']);
    expect(JSON.parse(stdout)).toEqual(CREATED);
  });

  it("lists tokens as JSON equal to the server's items", async () => {
    const { stdout } = await cli(['api-tokens', 'list', '--json']);
    expect(JSON.parse(stdout)).toEqual(TOKENS);
  });

  it('lists tokens as a table', async () => {
    const { stdout } = await cli(['api-tokens', 'list']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +NAME +CREATED +EXPIRES +LAST USED$/);
    expect(lines[1]).toMatch(/^at-1 +ci pipeline +2024-05-01T00:00:00Z +never +never$/);
    expect(lines[2]).toMatch(/^at-2 +grafana +2024-04-01T00:00:00Z +2025-01-01T00:00:00Z +2024-05-01T10:00:00Z$/);
  });

  it('revokes a token by id', async () => {
    const { code } = await cli(['api-tokens', 'revoke', 'at-1']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'DELETE', rawUrl: '/api/v1/api-tokens/at-1' });
  });
});
