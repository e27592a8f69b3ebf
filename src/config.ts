/**
 * Configuration: the environment variables of CONTRACT.md, parsed once and checked strictly.
 * The CLI flags and the programmatic options feed the same {@link loadConfig}.
 */
import { resolve } from 'node:path';

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
  const dataDir = resolve(get('HUSH_DATA_DIR') ?? './data');
  const databaseUrl = get('DATABASE_URL') ?? resolve(dataDir, 'hush.sqlite');
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
  const publicOrigin = get('HUSH_PUBLIC_ORIGIN');
  const metricsPort = get('HUSH_METRICS_PORT');
  return {
    port: parsePort(get('PORT') ?? '3000'),
    host: get('HOST') ?? '127.0.0.1',
    publicOrigin: publicOrigin === undefined ? undefined : parseOrigin(publicOrigin, 'HUSH_PUBLIC_ORIGIN'),
    dataDir,
    databaseUrl,
    redisUrl: get('REDIS_URL'),
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
    logLevel: get('HUSH_LOG_LEVEL') ?? 'info',
    metricsPort: metricsPort === undefined ? undefined : parsePort(metricsPort, 'HUSH_METRICS_PORT'),
  };
}

/** Whether the database URL names PostgreSQL rather than a SQLite file. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}
