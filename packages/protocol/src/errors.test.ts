import { describe, expect, it } from 'vitest';
import { BrierError, ERROR_CODES, type ErrorCode, errorCodeOfClose, httpStatusOf, isErrorCode, wsCloseCodeOf } from './errors.js';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('the error catalogue', () => {
  it('maps every code to an HTTP error status and a WebSocket close code an application may send', () => {
    for (const code of codes) {
      const status = httpStatusOf(code);
      expect(Number.isInteger(status) && status >= 400 && status <= 599, `${code} -> ${status}`).toBe(true);
      const close = wsCloseCodeOf(code);
      // 1000-2999 are the protocol's own (only 1008-1014 make sense for errors), 4000-4999 are private.
      const allowed = (close >= 4000 && close <= 4999) || [1008, 1009, 1011, 1013].includes(close);
      expect(allowed, `${code} -> ${close}`).toBe(true);
      expect(ERROR_CODES[code].title.length).toBeGreaterThan(0);
    }
  });

  it('gives the identity verdicts an agent acts on close codes of their own, and maps them back', () => {
    const expected: Array<[ErrorCode, number]> = [
      ['host_revoked', 4410],
      ['host_pending', 4411],
      ['superseded', 4412],
      ['host_unknown', 4414],
    ];
    for (const [code, close] of expected) {
      expect(wsCloseCodeOf(code)).toBe(close);
      expect(errorCodeOfClose(close)).toBe(code);
    }
  });

  it('maps back every close code that only one error uses', () => {
    const users = new Map<number, ErrorCode[]>();
    for (const code of codes) users.set(wsCloseCodeOf(code), [...(users.get(wsCloseCodeOf(code)) ?? []), code]);
    for (const [close, sharing] of users) {
      if (sharing.length === 1) expect(errorCodeOfClose(close)).toBe(sharing[0]);
      else expect(sharing).toContain(errorCodeOfClose(close));
    }
  });

  it('knows no error for a normal closure or an unknown close code', () => {
    for (const close of [1000, 1001, 1006, 4000, 4999, 0, -1]) expect(errorCodeOfClose(close)).toBeUndefined();
  });
});

describe('isErrorCode', () => {
  it('accepts catalogue codes only, not names inherited from Object.prototype', () => {
    for (const code of codes) expect(isErrorCode(code)).toBe(true);
    for (const value of ['toString', '__proto__', 'constructor', 'hasOwnProperty', '', 'INTERNAL', 42, null, undefined, {}]) {
      expect(isErrorCode(value), String(value)).toBe(false);
    }
  });
});

describe('BrierError', () => {
  it('carries its code, the catalogue title as default message, details and cause', () => {
    const cause = new Error('disk full');
    const err = new BrierError('unavailable', undefined, { cause, details: { retryAfterSeconds: 5 } });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('BrierError');
    expect(err.code).toBe('unavailable');
    expect(err.message).toBe(ERROR_CODES.unavailable.title);
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ retryAfterSeconds: 5 });
  });

  it('keeps a given message', () => {
    expect(new BrierError('conflict', 'already enrolled').message).toBe('already enrolled');
  });
});
