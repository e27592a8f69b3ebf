/**
 * Configuration: the environment variables of CONTRACT.md, parsed once and checked strictly.
 * The CLI flags and the programmatic options feed the same {@link loadConfig}.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type JwtAlgChoice = 'HS256' | 'EdDSA' | 'ES256';
export type RefreshStrategy = 'stateless' | 'rotating';

/** Everything the server needs to know, with durations in seconds. */
export interface HushConfig {
  readonly port: number;
  readonly host: string;
  /** The origin browsers use to reach the server; undefined → the request's own origin. */
  readonly publicOrigin: string | undefined;
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly redisUrl: string | undefined;
  readonly secret: string | undefined;
  readonly refreshSecret: string | undefined;
  readonly previousSecrets: readonly string[];
  readonly jwtAlg: JwtAlgChoice;
  readonly issuer: string;
  readonly audience: string;
  readonly accessTtl: number;
  readonly refreshTtl: number;
  readonly sessionMax: number;
  readonly refreshStrategy: RefreshStrategy;
  readonly reuseGrace: number;
  readonly allowedOrigins: readonly string[];
  readonly cookieSecure: boolean;
  readonly cookieSameSite: 'strict' | 'lax';
  readonly serverRefresh: boolean;
  readonly rateLimit: boolean;
  /** Fastify's trustProxy: false, a hop count, or a list of addresses/CIDRs. */
  readonly trustProxy: boolean | number | readonly string[];
  readonly demo: boolean;
  readonly logLevel: string;
  /** Port of the Prometheus `/metrics` endpoint; undefined = metrics off. */
  readonly metricsPort: number | undefined;
}

/** A configuration value that cannot be used; the message names the variable, never its value if secret. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const DURATION = /^(\d+)(s|m|h|d)?$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** Parses `90s`, `10m`, `24h`, `30d` or a plain number of seconds into seconds. */
export function parseDuration(value: string, name = 'duration'): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new ConfigError(`${name} must be a duration like 90s, 10m, 24h, 30d or seconds (got "${value}")`);
  const amount = Number(match[1]);
  const unit = (match[2] ?? 's') as keyof typeof UNIT_SECONDS;
  const seconds = amount * UNIT_SECONDS[unit];
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new ConfigError(`${name} must be a positive duration`);
  return seconds;
}

function parseBoolean(value: string, name: string, words: readonly [string, string] = ['true', 'false']): boolean {
  const v = value.trim().toLowerCase();
  if (v === words[0] || v === 'true' || v === '1' || v === 'on' || v === 'yes') return true;
  if (v === words[1] || v === 'false' || v === '0' || v === 'off' || v === 'no') return false;
  throw new ConfigError(`${name} must be ${words[0]} or ${words[1]} (got "${value}")`);
}

function parseOrigin(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name}: "${value}" is not an origin like https://app.example.com`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin === 'null') {
    throw new ConfigError(`${name}: "${value}" must be an http(s) origin`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`${name}: "${value}" must be a bare origin (scheme, host and port only)`);
  }
  return url.origin;
}

function parseList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function parsePort(value: string, name = 'PORT'): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be a number from 0 to 65535 (got "${value}")`);
  }
  return port;
}

function parseTrustProxy(value: string | undefined): HushConfig['trustProxy'] {
  if (value === undefined || value.trim() === '' || value.trim() === 'false') return false;
  const v = value.trim();
  if (v === 'true') {
    throw new ConfigError('HUSH_TRUST_PROXY=true would believe any client; give a hop count or proxy addresses');
  }
  if (/^\d+$/.test(v)) return Number(v);
  return parseList(v);
}

function checkSecret(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (Buffer.byteLength(value, 'utf8') < 32) throw new ConfigError(`${name} must be at least 32 bytes of UTF-8`);
  return value;
}

/** The levels pino knows; anything else is a typo that would otherwise crash the logger at start. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** What is at `path`: a folder, something else, or nothing. */
function kindOf(path: string): 'folder' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'other';
  } catch {
    return 'missing';
  }
}

/** `HUSH_DATA_DIR` may be missing (it is created at start) but must not be a file. */
function parseDataDir(value: string | undefined): string {
  const dataDir = resolve(value ?? './data');
  if (kindOf(dataDir) === 'other') {
    throw new ConfigError(`HUSH_DATA_DIR: ${dataDir} is a file, not a folder; point HUSH_DATA_DIR at a folder (it is created when missing)`);
  }
  return dataDir;
}

/**
 * `DATABASE_URL`: a PostgreSQL URL, a `file:` URL or a SQLite file path. A path's folder must
 * exist (the data folder aside, which start-up creates): a typo must not silently create a new,
 * empty database somewhere else, and a URL of another database (`mysql://…`) is not a file name.
 * Messages name the variable and the scheme, never the URL itself (it may carry a password).
 */
function parseDatabaseUrl(value: string | undefined, dataDir: string): string {
  if (value === undefined) return resolve(dataDir, 'hush.sqlite');
  const v = value.trim();
  if (/^postgres(ql)?:\/\//i.test(v)) return v;
  let path: string;
  if (/^file:/i.test(v)) {
    try {
      path = fileURLToPath(v);
    } catch {
      throw new ConfigError('DATABASE_URL: a file: URL must name a local file, like file:///var/lib/hush/hush.sqlite');
    }
  } else {
    // A scheme of two letters or more (one letter is a Windows drive) is some other database.
    const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(v)?.[1];
    if (scheme !== undefined) {
      throw new ConfigError(
        `DATABASE_URL: "${scheme}:" is not supported; give postgres://…, postgresql://…, a file: URL or the path of a SQLite file`,
      );
    }
    path = v;
  }
  path = resolve(path);
  const folder = dirname(path);
  if (folder !== dataDir) {
    const kind = kindOf(folder);
    if (kind === 'missing') throw new ConfigError(`DATABASE_URL: the folder ${folder} does not exist (hush creates the database file, not its folder)`);
    if (kind === 'other') throw new ConfigError(`DATABASE_URL: ${folder} is not a folder`);
  }
  if (kindOf(path) === 'folder') throw new ConfigError(`DATABASE_URL: ${path} is a folder, not a SQLite file`);
  return path;
}

/** `REDIS_URL`: a `redis://` or `rediss://` URL; refused otherwise, without repeating it (it may carry a password). */
function parseRedisUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError('REDIS_URL is not a URL; give one like redis://127.0.0.1:6379 (or rediss:// for TLS)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL (got a ${url.protocol} URL)`);
  }
  return value.trim();
}

/** The environment variables read by {@link loadConfig}. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the configuration from environment-style variables. Unset or empty means the default.
 * Throws {@link ConfigError} with a message naming the variable at fault.
 */
export function loadConfig(env: Env = process.env): HushConfig {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  const dataDir = parseDataDir(get('HUSH_DATA_DIR'));
  const databaseUrl = parseDatabaseUrl(get('DATABASE_URL'), dataDir);
  const jwtAlg = get('HUSH_JWT_ALG') ?? 'HS256';
  if (jwtAlg !== 'HS256' && jwtAlg !== 'EdDSA' && jwtAlg !== 'ES256') {
    throw new ConfigError(`HUSH_JWT_ALG must be HS256, EdDSA or ES256 (got "${jwtAlg}")`);
  }
  const strategy = get('HUSH_REFRESH_STRATEGY') ?? 'stateless';
  if (strategy !== 'stateless' && strategy !== 'rotating') {
    throw new ConfigError(`HUSH_REFRESH_STRATEGY must be stateless or rotating (got "${strategy}")`);
  }
  const sameSite = (get('HUSH_COOKIE_SAMESITE') ?? 'strict').toLowerCase();
  if (sameSite !== 'strict' && sameSite !== 'lax') {
    throw new ConfigError(`HUSH_COOKIE_SAMESITE must be strict or lax (got "${sameSite}")`);
  }
  const secret = checkSecret(get('HUSH_SECRET'), 'HUSH_SECRET');
  const refreshSecret = checkSecret(get('HUSH_REFRESH_SECRET'), 'HUSH_REFRESH_SECRET');
  if (secret !== undefined && secret === refreshSecret) {
    throw new ConfigError('HUSH_REFRESH_SECRET must differ from HUSH_SECRET');
  }
  const previousSecrets = parseList(get('HUSH_PREVIOUS_SECRETS')).map((s, i) => {
    checkSecret(s, `HUSH_PREVIOUS_SECRETS[${i}]`);
    return s;
  });
  const accessTtl = parseDuration(get('HUSH_ACCESS_TTL') ?? '10m', 'HUSH_ACCESS_TTL');
  const refreshTtl = parseDuration(get('HUSH_REFRESH_TTL') ?? '30d', 'HUSH_REFRESH_TTL');
  const sessionMax = parseDuration(get('HUSH_SESSION_MAX') ?? '90d', 'HUSH_SESSION_MAX');
  if (sessionMax < refreshTtl) throw new ConfigError('HUSH_SESSION_MAX must be at least HUSH_REFRESH_TTL');
  // An access token outliving the session it came from would keep a signed-out user in.
  if (accessTtl > refreshTtl) {
    throw new ConfigError(`HUSH_ACCESS_TTL (${accessTtl} s) must not be longer than HUSH_REFRESH_TTL (${refreshTtl} s)`);
  }
  const logLevel = (get('HUSH_LOG_LEVEL') ?? 'info').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`HUSH_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${get('HUSH_LOG_LEVEL') ?? ''}")`);
  }
  const publicOrigin = get('HUSH_PUBLIC_ORIGIN');
  const metricsPort = get('HUSH_METRICS_PORT');
  return {
    port: parsePort(get('PORT') ?? '3000'),
    host: get('HOST') ?? '127.0.0.1',
    publicOrigin: publicOrigin === undefined ? undefined : parseOrigin(publicOrigin, 'HUSH_PUBLIC_ORIGIN'),
    dataDir,
    databaseUrl,
    redisUrl: parseRedisUrl(get('REDIS_URL')),
    secret,
    refreshSecret,
    previousSecrets,
    jwtAlg,
    issuer: get('HUSH_ISSUER') ?? 'hush',
    audience: get('HUSH_AUDIENCE') ?? 'hush',
    accessTtl,
    refreshTtl,
    sessionMax,
    refreshStrategy: strategy,
    reuseGrace: parseDuration(get('HUSH_REUSE_GRACE') ?? '10s', 'HUSH_REUSE_GRACE'),
    allowedOrigins: parseList(get('HUSH_ALLOWED_ORIGINS')).map((o) => parseOrigin(o, 'HUSH_ALLOWED_ORIGINS')),
    cookieSecure: parseBoolean(get('HUSH_COOKIE_SECURE') ?? 'true', 'HUSH_COOKIE_SECURE'),
    cookieSameSite: sameSite,
    serverRefresh: parseBoolean(get('HUSH_SERVER_REFRESH') ?? 'off', 'HUSH_SERVER_REFRESH', ['on', 'off']),
    rateLimit: parseBoolean(get('HUSH_RATE_LIMIT') ?? 'on', 'HUSH_RATE_LIMIT', ['on', 'off']),
    trustProxy: parseTrustProxy(get('HUSH_TRUST_PROXY')),
    demo: parseBoolean(get('HUSH_DEMO') ?? 'on', 'HUSH_DEMO', ['on', 'off']),
    logLevel,
    metricsPort: metricsPort === undefined ? undefined : parsePort(metricsPort, 'HUSH_METRICS_PORT'),
  };
}

/** Whether the database URL names PostgreSQL rather than a SQLite file. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}
