/**
 * Start-up failures that name the setting at fault: a port in use, a database that cannot be
 * reached. The CLI prints the message and exits 1; nothing of a URL but host and port is repeated
 * (a URL may carry a password).
 */
import { describeError } from './core/describe-error.js';

/** Stable codes of {@link StartupError}. */
export type StartupErrorCode = 'ERR_HUSH_PORT_IN_USE' | 'ERR_HUSH_LISTEN' | 'ERR_HUSH_DATABASE_UNREACHABLE';

/** hush could not start; `setting` names the environment variable to look at. */
export class StartupError extends Error {
  readonly code: StartupErrorCode;
  readonly setting: string;
  constructor(code: StartupErrorCode, setting: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.setting = setting;
  }
}

/** The error to report when listening on `host:port` (set by `setting`) failed. */
export function listenFailure(error: unknown, setting: 'PORT' | 'HUSH_METRICS_PORT', host: string, port: number): StartupError {
  const code = describeError(error);
  if (code === 'EADDRINUSE') {
    return new StartupError(
      'ERR_HUSH_PORT_IN_USE',
      setting,
      `${setting}=${port}: the port is already in use on ${host}; stop what uses it or set ${setting} to another port` +
        (setting === 'PORT' ? ' (e.g. PORT=3001 npm start)' : ''),
      { cause: error },
    );
  }
  const why = code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : code === 'EADDRNOTAVAIL' ? `this machine has no address ${host} (check HOST)` : code;
  return new StartupError('ERR_HUSH_LISTEN', setting, `${setting}=${port}: cannot listen on ${host}: ${why}`, { cause: error });
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** Host and port of a URL, for messages (never user or password). */
export function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.port ? `${parsed.hostname}:${parsed.port}` : parsed.hostname;
  } catch {
    return 'the configured host';
  }
}

/** The codes inside `error` (an AggregateError holds one per address tried). */
function codesOf(error: unknown): string[] {
  const inner = error instanceof AggregateError ? error.errors : [];
  return [describeError(error), ...inner.map(describeError)];
}

/**
 * A {@link StartupError} naming DATABASE_URL when `error` says the database cannot be reached
 * or refused the login; undefined for anything else (left as it is).
 */
export function databaseFailure(error: unknown, databaseUrl: string): StartupError | undefined {
  const codes = codesOf(error);
  const where = hostOf(databaseUrl);
  const unreachable = codes.find((c) => UNREACHABLE.has(c));
  if (unreachable !== undefined) {
    const why = unreachable === 'ECONNREFUSED' ? 'connection refused: is PostgreSQL running there?' : unreachable === 'ENOTFOUND' || unreachable === 'EAI_AGAIN' ? 'no such host' : unreachable;
    return new StartupError('ERR_HUSH_DATABASE_UNREACHABLE', 'DATABASE_URL', `DATABASE_URL: cannot reach the database at ${where} (${why})`, { cause: error });
  }
  const sqlstate = codes[0];
  if (sqlstate === '28P01' || sqlstate === '28000') {
    return new StartupError('ERR_HUSH_DATABASE_UNREACHABLE', 'DATABASE_URL', `DATABASE_URL: the database at ${where} refused the user or password`, { cause: error });
  }
  if (sqlstate === '3D000') {
    return new StartupError('ERR_HUSH_DATABASE_UNREACHABLE', 'DATABASE_URL', `DATABASE_URL: the database named in the URL does not exist on ${where}`, { cause: error });
  }
  return undefined;
}
