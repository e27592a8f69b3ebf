/**
 * Command-line flags: every flag mirrors an environment variable (`--access-ttl 5m` is
 * `HUSH_ACCESS_TTL=5m`), so the CLI, the environment and the programmatic options share one parser.
 */

/** Flags that map to variables without the HUSH_ prefix. */
const PLAIN = new Set(['port', 'host', 'database-url', 'redis-url']);

/** Every variable a flag may set. */
export const FLAG_VARIABLES = new Set([
  'PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'HUSH_PUBLIC_ORIGIN', 'HUSH_DATA_DIR', 'HUSH_SECRET',
  'HUSH_REFRESH_SECRET', 'HUSH_PREVIOUS_SECRETS', 'HUSH_JWT_ALG', 'HUSH_ISSUER', 'HUSH_AUDIENCE',
  'HUSH_ACCESS_TTL', 'HUSH_REFRESH_TTL', 'HUSH_SESSION_MAX', 'HUSH_REFRESH_STRATEGY', 'HUSH_REUSE_GRACE',
  'HUSH_ALLOWED_ORIGINS', 'HUSH_COOKIE_SECURE', 'HUSH_COOKIE_SAMESITE', 'HUSH_SERVER_REFRESH',
  'HUSH_RATE_LIMIT', 'HUSH_TRUST_PROXY', 'HUSH_DEMO', 'HUSH_LOG_LEVEL', 'HUSH_METRICS_PORT',
]);

/** A command line that cannot be understood; the CLI prints the message and exits 2. */
export class UsageError extends Error {
  readonly code = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The variable a `--flag` sets. */
export function flagVariable(flag: string): string {
  const name = flag.toLowerCase();
  const variable = (PLAIN.has(name) ? name : `hush-${name}`).toUpperCase().replaceAll('-', '_');
  if (!FLAG_VARIABLES.has(variable)) throw new UsageError(`unknown option --${flag}`);
  return variable;
}

/** Splits argv into positional words and flag-set variables (`--name value` or `--name=value`). */
export function parseArgs(argv: readonly string[]): { words: string[]; env: Record<string, string>; help: boolean; version?: true } {
  const words: string[] = [];
  const env: Record<string, string> = {};
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
    } else if (arg === '--version' || arg === '-v') {
      version = true;
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const flag = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`option --${flag} needs a value`);
      if (/^(secret|refresh-secret|previous-secrets)$/.test(flag)) {
        throw new UsageError(`--${flag} would put a secret in the process list; set HUSH_${flag.toUpperCase().replaceAll('-', '_')} in the environment instead`);
      }
      env[flagVariable(flag)] = value;
    } else {
      words.push(arg);
    }
  }
  return version ? { words, env, help, version } : { words, env, help };
}

/**
 * The warnings a command line deserves: a `--database-url` or `--redis-url` that carries a
 * password shows it to every user of the machine (`ps`, /proc). Never repeats the URL.
 */
export function commandLineWarnings(env: Readonly<Record<string, string>>): string[] {
  const warnings: string[] = [];
  for (const [variable, flag] of [['DATABASE_URL', '--database-url'], ['REDIS_URL', '--redis-url']] as const) {
    const value = env[variable];
    if (value === undefined) continue;
    let password = '';
    try {
      password = new URL(value).password;
    } catch {
      // Not a URL: nothing that looks like a password to warn about (the configuration refuses it if it must).
    }
    if (password !== '') {
      warnings.push(
        `${flag} carries a password, which other users of this machine can read in the process list; set ${variable} in the environment instead`,
      );
    }
  }
  return warnings;
}
