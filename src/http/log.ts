/**
 * The server's log: pino, JSON lines on standard output, with every path that could carry a
 * secret redacted. Fastify itself runs without a logger — it would make a child logger for every
 * request, a cost on the hot path for lines hush never writes (nothing is logged per request).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths that could ever carry a secret in a log line; redacted wherever they appear. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.access_token',
  '*.refreshToken',
  '*.passwordHash',
];

/** A logger at `level` (`info`, `debug`, `silent`, …) with secrets redacted. */
export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } });
}
