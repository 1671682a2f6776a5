import { BrierError, type ErrorCode } from '@brier/protocol';

/**
 * Why a rollout rule refused something. Domain functions return these as values (never throw), so
 * the engine and the API can branch on `code`; `toBrierError` maps them onto the shared catalogue in
 * one place, which the problem+json handler then turns into an HTTP status.
 */
export const ROLLOUT_ERRORS = {
  /** The event is not allowed from the current deployment state. */
  illegal_transition: 'conflict',
  /** halt, abort and reject must say why: the reason is what the audit log and the report show. */
  reason_required: 'bad_request',
  /** Approving something that is not waiting for approval (already approved, still a draft, ...). */
  not_awaiting_approval: 'conflict',
  /** Nobody approves their own deployment: change control needs a second person. */
  self_approval: 'forbidden',
  /** Only the approver and admin roles may approve. */
  approver_role_required: 'forbidden',
  /** A deployment spec that breaks a rule (details.problems lists every one). */
  invalid_spec: 'bad_request',
  /** A cron expression that does not parse, uses an unsupported feature, or never fires. */
  invalid_cron: 'bad_request',
  /** A time zone that is not an IANA name the runtime knows. */
  invalid_time_zone: 'bad_request',
  /** A maintenance window whose duration is not a whole number of minutes in range. */
  invalid_window: 'bad_request',
} as const satisfies Record<string, ErrorCode>;

export type RolloutErrorCode = keyof typeof ROLLOUT_ERRORS;

export interface RolloutError {
  code: RolloutErrorCode;
  message: string;
  /** Machine-readable facts (never secrets), e.g. the state and event of an illegal transition. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export type Result<T, E = RolloutError> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(
  code: RolloutErrorCode,
  message: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): { ok: false; error: RolloutError } {
  const error: RolloutError = { code, message };
  if (details !== undefined) error.details = details;
  if (cause !== undefined) error.cause = cause;
  return { ok: false, error };
}

/** The shared-catalogue error for a rollout error, keeping the rollout code in `details.reason`. */
export function toBrierError(error: RolloutError): BrierError {
  return new BrierError(ROLLOUT_ERRORS[error.code], error.message, {
    cause: error.cause ?? error,
    details: { reason: error.code, ...error.details },
  });
}
