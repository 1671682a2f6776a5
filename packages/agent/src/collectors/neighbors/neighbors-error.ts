/**
 * Why the neighbour tables could not be read: `unavailable` (no tool or file to read them from),
 * `malformed` (a tool printed something unparseable), `unsupported_platform`.
 */
export type NeighborsErrorCode = 'unavailable' | 'malformed' | 'unsupported_platform';

export class NeighborsError extends Error {
  readonly code: NeighborsErrorCode;

  constructor(code: NeighborsErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'NeighborsError';
    this.code = code;
  }
}
