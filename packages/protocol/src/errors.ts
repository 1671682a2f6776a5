/**
 * The error catalogue shared by server, agent and CLI. Every error that crosses a process boundary
 * carries one of these stable codes; HTTP status and WebSocket close codes are derived from it in
 * exactly one place each (`httpStatusOf`, `wsCloseCodeOf`).
 */
export const ERROR_CODES = {
  bad_request: { status: 400, close: 4400, title: 'Bad request' },
  invalid_message: { status: 400, close: 4400, title: 'Message failed validation' },
  unknown_message_type: { status: 400, close: 4400, title: 'Unknown message type' },
  payload_too_large: { status: 413, close: 1009, title: 'Payload too large' },
  unauthenticated: { status: 401, close: 4401, title: 'Authentication required' },
  invalid_credentials: { status: 401, close: 4401, title: 'Invalid credentials' },
  forbidden: { status: 403, close: 4403, title: 'Forbidden' },
  not_found: { status: 404, close: 4404, title: 'Not found' },
  conflict: { status: 409, close: 4409, title: 'Conflict' },
  rate_limited: { status: 429, close: 4429, title: 'Too many requests' },
  token_invalid: { status: 401, close: 4401, title: 'Enrollment token is not valid' },
  token_expired: { status: 401, close: 4401, title: 'Enrollment token has expired' },
  token_exhausted: { status: 401, close: 4401, title: 'Enrollment token has no uses left' },
  server_key_mismatch: { status: 400, close: 4400, title: 'Server key does not match the pinned fingerprint' },
  auth_timeout: { status: 408, close: 4408, title: 'Authentication not completed in time' },
  bad_signature: { status: 401, close: 4401, title: 'Signature does not verify' },
  host_unknown: { status: 401, close: 4414, title: 'Host is not enrolled' },
  host_revoked: { status: 403, close: 4410, title: 'Host has been revoked' },
  host_pending: { status: 403, close: 4411, title: 'Host is waiting for approval' },
  inventory_hash_mismatch: { status: 409, close: 4409, title: 'Inventory base hash does not match' },
  inventory_too_large: { status: 413, close: 4413, title: 'Inventory exceeds the per-host limit' },
  superseded: { status: 409, close: 4412, title: 'A newer connection for this host replaced this one' },
  unavailable: { status: 503, close: 1013, title: 'Service unavailable' },
  internal: { status: 500, close: 1011, title: 'Internal error' },
} as const satisfies Record<string, { status: number; close: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export interface BrierErrorOptions {
  cause?: unknown;
  /** Extra machine-readable facts (never secrets); shown in problem+json `details`. */
  details?: Record<string, unknown>;
}

/** An error as a value: a stable code, a human message, always a cause when there is one. */
export class BrierError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options: BrierErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].title, { cause: options.cause });
    this.name = 'BrierError';
    this.code = code;
    this.details = options.details;
  }
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

export function wsCloseCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code].close;
}

/** Maps a WebSocket close code back to the error code that produced it (first match wins). */
export function errorCodeOfClose(close: number): ErrorCode | undefined {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    if (info.close === close) return code as ErrorCode;
  }
  return undefined;
}
