import pino, { type Logger } from 'pino';

/** Everything that may hold a secret, wherever it appears in a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'password',
  'token',
  'privateKey',
  '*.password',
  '*.token',
  '*.privateKey',
  '*.adminPassword',
  '*.databaseUrl',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'brier-server' } }, destination);
}
