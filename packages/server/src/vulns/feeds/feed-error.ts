/**
 * Errors that stop a whole feed read. A single bad record never throws: it becomes a
 * `{kind: 'rejected'}` item and the read goes on; these codes are for the source itself.
 */
export type FeedErrorCode =
  /** The source cannot be reached or opened (DNS, refused connection, HTTP error status, missing path). */
  | 'feed-unreachable'
  /** A download made no progress (no response, or no bytes) for `timeoutMs`. */
  | 'feed-timeout'
  /** The source is larger than the configured byte or entry caps. */
  | 'feed-too-large'
  /** A zip archive tries to escape (absolute or `..` paths) or expands like a zip bomb. */
  | 'feed-unsafe-archive'
  /** The source is not in the expected format at all (not a zip, not JSON, wrong top-level shape). */
  | 'feed-format';

export class FeedError extends Error {
  readonly code: FeedErrorCode;

  constructor(code: FeedErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'FeedError';
    this.code = code;
  }
}

export function isFeedError(value: unknown): value is FeedError {
  return value instanceof FeedError;
}

/** The message of any thrown value, bounded so a hostile payload cannot flood a log line. */
export function messageOf(error: unknown, max = 300): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
