import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/** Asserts an RFC 9457 problem document with Brier's stable `code`, and returns it. */
export function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json<{ type: string; title: string; status: number; code: string; detail?: string }>();
  expect(body).toMatchObject({ status, code, type: `https://brier.dev/problems/${code}` });
  expect(typeof body.title).toBe('string');
  return body;
}
