import { BrierError, ERROR_CODES, type ErrorCode, httpStatusOf } from '@brier/protocol';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

/** Fastify's own error codes mapped onto the catalogue. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_VALIDATION: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'bad_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_RATE_LIMIT: 'rate_limited',
};

export function sendProblem(reply: FastifyReply, code: ErrorCode, detail?: string, details?: Record<string, unknown>) {
  const status = httpStatusOf(code);
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: `https://brier.dev/problems/${code}`,
      title: ERROR_CODES[code].title,
      status,
      code,
      ...(detail ? { detail } : {}),
      ...(details ? { details } : {}),
    });
}

/** The one place errors become HTTP responses: RFC 9457 problem+json with a stable `code`. */
export function registerProblemHandler(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError | BrierError, request, reply) => {
    if (error instanceof BrierError) return sendProblem(reply, error.code, error.message, error.details);
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) return sendProblem(reply, mapped, error.message);
    if (error.statusCode === 429) return sendProblem(reply, 'rate_limited', error.message);
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return sendProblem(reply, 'bad_request', error.message);
    request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, 'internal', 'an unexpected error occurred; see the server log');
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 'not_found', `no route for ${request.method} ${request.url.split('?')[0]}`),
  );
}
