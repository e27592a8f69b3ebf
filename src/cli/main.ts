/**
 * The `hush` command: start the server, manage users and keys, decode a token. Passwords and
 * tokens are read from standard input, never from arguments (which other users can see).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, ConfigError, isPostgresUrl, type HushConfig } from '../config.js';
import { AuthError } from '../core/errors.js';
import { fileKeyRepository, KEY_PUBLISH_LEAD_MS, keyRepository, rotateSigningKey, SECRETS_FILE, SIGNING_KEYS_FILE, signingKid } from '../core/keys.js';
import { decode, JwtError } from '../jwt/index.js';
import { createHush, listenUrl, openAdminCore } from '../server.js';
import { databaseFailure, StartupError } from '../startup-errors.js';
import { openStore, type Store } from '../store/index.js';
import { commandLineWarnings, parseArgs, UsageError } from './args.js';

const OPTIONS = `Options mirror the environment: --port, --host, --database-url, --redis-url, and --<name> for
HUSH_<NAME> (e.g. --data-dir, --access-ttl 5m, --jwt-alg EdDSA). Secrets are taken only from the
environment. See the README for every variable.`;

const USAGE = `Usage: hush <command> [options]

Commands:
  start                          serve the auth API (and the demo at /)
  user list                      list users
  user create <username>         create a user; the password is read from standard input
  user set-password <username>   set a password (read from standard input); ends every session
  user suspend <username>        suspend a user; ends every session at once
  user unsuspend <username>      lift a suspension (old sessions stay ended)
  user delete <username>         delete a user and end their sessions
  keys list                      list signing keys (and say where the HS256 secret lives)
  keys rotate                    add a signing key (EdDSA/ES256): published now, signing in 2 minutes
  token decode                   print a token's header and claims (read from standard input), unverified

  hush <command> --help          help on one command;  hush --version  the version

${OPTIONS}`;

/** The help of each command, for `hush <command> --help`. */
const HELP: Readonly<Record<string, string>> = {
  start: `Usage: hush start [options]

Serves the auth API, and the demo at / (HUSH_DEMO=off turns it off), on HOST:PORT (127.0.0.1:3000).
Data lives in HUSH_DATA_DIR (./data): the SQLite database and, unless HUSH_SECRET and
HUSH_REFRESH_SECRET are set, the secrets it generates on first start (secrets.json, mode 0600).
Stops on SIGINT/SIGTERM after finishing the requests in flight. A start-up failure exits 1.

${OPTIONS}`,
  user: `Usage: hush user <action> [<username>] [options]

  list                      list users (reads only; needs no secret)
  create <username>         create a user; the password is read from standard input:
                              echo "$PASSWORD" | hush user create alice
  set-password <username>   set a password (read from standard input); ends every session
  suspend <username>        suspend a user; ends every session at once
  unsuspend <username>      lift a suspension (old sessions stay ended)
  delete <username>         delete a user and end their sessions

Run it with the server's DATABASE_URL (or HUSH_DATA_DIR). No secret is needed or created.`,
  keys: `Usage: hush keys list|rotate [options]

  list     EdDSA/ES256: the signing keys, which one signs and when the next takes over (reads only).
           HS256: where the signing secret (HUSH_SECRET) lives.
  rotate   EdDSA/ES256: add a key, published at once and signing 2 minutes later; running servers
           pick it up without a restart. HS256: explains how to rotate HUSH_SECRET, exits 1.

Run it with the server's HUSH_JWT_ALG and DATABASE_URL (or HUSH_DATA_DIR).`,
  token: `Usage: hush token decode

Reads a token from standard input (a "Bearer <token>" pasted from a header is fine) and prints its
header and claims as JSON, marked unverified. Needs no configuration.`,
};

/** The package's version, from its package.json (two folders above this file in src/ and dist/). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
  return `${pkg.name ?? 'hush'} ${pkg.version ?? 'unknown'}`;
}

/** Output streams, replaceable in tests. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: () => Promise<string>;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: async () => {
    if (process.stdin.isTTY) process.stderr.write('(reading from standard input; end with Ctrl-D)\n');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/** Reads one secret from standard input, dropping the final line break that `echo` adds. */
async function readSecret(io: Io, what: string): Promise<string> {
  const text = (await io.stdin()).replace(/\r?\n$/, '');
  if (text.length === 0) throw new UsageError(`no ${what} on standard input (try: echo "$PASSWORD" | hush ...)`);
  return text;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo, baseEnv: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const { words, env, help, version: wantsVersion } = parseArgs(argv);
    if (wantsVersion) {
      io.stdout(`${version()}\n`);
      return 0;
    }
    const [command, sub, ...rest] = words;
    if (help || words.length === 0) {
      const text = command === undefined ? USAGE : HELP[command];
      if (text === undefined) throw new UsageError(`unknown command "${command}"; see hush --help`);
      (help ? io.stdout : io.stderr)(`${text}\n`);
      return help ? 0 : 2;
    }
    for (const warning of commandLineWarnings(env)) io.stderr(`hush: warning: ${warning}\n`);
    // Decoding reads nothing but standard input: no configuration to load, or to get wrong.
    if (command === 'token') {
      if (sub !== 'decode') throw new UsageError('usage: hush token decode  (the token on standard input)');
      expectWords(rest, [], 'token decode');
      return await decodeToken(io);
    }
    const merged = { ...baseEnv, ...env };
    const config = loadConfig(merged);
    switch (command) {
      case 'start':
        if (sub !== undefined) throw new UsageError(`hush start takes no arguments (got "${sub}")`);
        return await start(config);
      case 'user':
        return await user(config, sub, rest, io);
      case 'keys':
        if (sub !== 'list' && sub !== 'rotate') throw new UsageError('usage: hush keys list|rotate');
        expectWords(rest, [], `keys ${sub}`);
        return await keys(config, sub, io, (merged['HUSH_JWT_ALG'] ?? '').trim() !== '');
      default:
        throw new UsageError(`unknown command "${command}"; see hush --help`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.stderr(`hush: ${error.message}\n`);
      return 2;
    }
    if (error instanceof AuthError || error instanceof JwtError || error instanceof StartupError || error instanceof CliError) {
      io.stderr(`hush: ${error.message}\n`);
      return 1;
    }
    io.stderr(`hush: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** A command that cannot do its work (no database there, not hush's schema); exits 1. */
class CliError extends Error {
  readonly code = 'ERR_HUSH_CLI';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Checks the positional arguments after a command: exactly the `names` it takes. */
function expectWords(words: readonly string[], names: readonly string[], command: string): void {
  if (words.length > names.length) {
    throw new UsageError(
      names.length === 0
        ? `hush ${command} takes no arguments (got "${words.join(' ')}")`
        : `hush ${command} takes only ${names.map((n) => `<${n}>`).join(' ')} (got ${words.length} arguments)`,
    );
  }
  if (words.length < names.length) {
    throw new UsageError(`hush ${command} needs ${names.slice(words.length).map((n) => `a <${n}>`).join(' and ')}, e.g. hush ${command} alice`);
  }
}

async function start(config: HushConfig): Promise<number> {
  const hush = await createHush(config);
  // listen() closes everything it opened when either port cannot be bound, then rejects.
  const url = await hush.listen();
  const address = hush.app.server.address();
  const real = address !== null && typeof address === 'object' ? listenUrl(address) : url;
  const everywhere = /^http:\/\/(0\.0\.0\.0|\[::\])/.test(real);
  hush.log.info(
    // `url` is the address really bound (0.0.0.0 means every interface); `local` is one to open here.
    { url: real, ...(everywhere ? { local: url } : {}), strategy: config.refreshStrategy, database: hush.store.kind },
    'hush listening',
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      hush.log.info('shutting down: finishing requests in flight');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await hush.close();
  return 0;
}

/**
 * Opens the store for a command that only reads: never created, never migrated. A SQLite file
 * must exist; the schema must be hush's. `read` runs the query; a missing table becomes a clear
 * refusal naming DATABASE_URL.
 */
async function readOnly<T>(config: HushConfig, read: (store: Store) => Promise<T>): Promise<T> {
  const postgres = isPostgresUrl(config.databaseUrl);
  if (!postgres && !existsSync(config.databaseUrl)) {
    throw new CliError(
      `no hush database at ${config.databaseUrl} (DATABASE_URL, by default $HUSH_DATA_DIR/hush.sqlite): ` +
        'run this with the server\'s DATABASE_URL or HUSH_DATA_DIR; read-only commands never create one',
    );
  }
  const store = await openStore(config.databaseUrl, { readonly: true, max: 1 });
  try {
    return await read(store);
  } catch (error) {
    const failure = databaseFailure(error, config.databaseUrl);
    if (failure) throw failure;
    if (isMissingTable(error)) {
      throw new CliError(
        `the database at DATABASE_URL (${postgres ? 'PostgreSQL' : config.databaseUrl}) has no hush tables: is it the database hush start uses? ` +
          '(read-only commands never create them)',
        { cause: error },
      );
    }
    throw error;
  } finally {
    await store.close();
  }
}

/** A query on a table that does not exist: SQLite's "no such table", PostgreSQL's 42P01. */
function isMissingTable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '42P01' || (error instanceof Error && code === 'SQLITE_ERROR' && /no such table/.test(error.message));
}

async function user(config: HushConfig, sub: string | undefined, rest: readonly string[], io: Io): Promise<number> {
  const actions = ['list', 'create', 'set-password', 'suspend', 'unsuspend', 'delete'];
  if (sub === undefined || !actions.includes(sub)) {
    throw new UsageError(`usage: hush user ${actions.join('|')} [<username>]  (see hush user --help)`);
  }
  expectWords(rest, sub === 'list' ? [] : ['username'], `user ${sub}`);
  if (sub === 'list') {
    const users = await readOnly(config, (store) => store.listUsers());
    for (const u of users) {
      io.stdout(`${u.id}  ${u.username}${u.suspended ? '  (suspended)' : ''}  created ${u.createdAt.toISOString()}\n`);
    }
    if (users.length === 0) io.stderr('no users\n');
    return 0;
  }
  const username = rest[0] ?? '';
  const password = sub === 'create' || sub === 'set-password' ? await readSecret(io, 'password') : '';
  const core = await openAdminCore(config);
  try {
    const service = core.service;
    switch (sub) {
      case 'create':
        io.stdout(`created ${(await service.createUser(username, password)).id}\n`);
        break;
      case 'set-password':
        await service.setPassword(username, password);
        io.stdout(`password set for ${username}; every session of the user has ended\n`);
        break;
      case 'suspend':
      case 'unsuspend':
        await service.setSuspended(username, sub === 'suspend');
        io.stdout(`${username} ${sub === 'suspend' ? 'suspended; every session has ended' : 'unsuspended'}\n`);
        break;
      case 'delete':
        await service.deleteUserNamed(username);
        io.stdout(`deleted ${username}\n`);
        break;
    }
    return 0;
  } finally {
    await core.close();
  }
}

/** Where the HS256 signing secret of this configuration lives, in a sentence (never the value). */
function hs256SecretLocation(config: HushConfig): string {
  if (config.secret !== undefined) return 'HUSH_SECRET, set in this environment (resource services need the same value)';
  if (isPostgresUrl(config.databaseUrl)) {
    return 'HUSH_SECRET, which a PostgreSQL deployment must set in every server\'s environment (it is not set in this one)';
  }
  const file = join(config.dataDir, SECRETS_FILE);
  return existsSync(file)
    ? `the "secret" value of ${file}, generated on first start (unless the server sets HUSH_SECRET, which takes precedence); ` +
        'resource services take it as their HUSH_SECRET'
    : `not generated yet: the first hush start writes it to ${file} (unless HUSH_SECRET is set)`;
}

/**
 * With HUSH_JWT_ALG unset (HS256), asymmetric keys in the key store mean the server probably runs
 * with EdDSA/ES256 and this command was run without it: say so instead of describing the wrong keys.
 */
async function asymmetricKeysNote(config: HushConfig): Promise<string | undefined> {
  const postgres = isPostgresUrl(config.databaseUrl);
  const stored = postgres
    ? await readOnly(config, (store) => store.listSigningKeys()).catch(() => [])
    : await fileKeyRepository(config).list().catch(() => []);
  const algs = [...new Set(stored.map((k) => k.alg))];
  if (algs.length === 0) return undefined;
  const where = postgres ? 'the database' : join(config.dataDir, SIGNING_KEYS_FILE);
  return (
    `note: HUSH_JWT_ALG is not set, so this run assumed HS256, but ${where} holds ${stored.length} ${algs.join('/')} key(s): ` +
    `if the server runs with HUSH_JWT_ALG=${algs[0]}, run this command with HUSH_JWT_ALG=${algs[0]} (or --jwt-alg ${algs[0]})`
  );
}

async function keys(config: HushConfig, sub: 'list' | 'rotate', io: Io, algGiven: boolean): Promise<number> {
  if (config.jwtAlg === 'HS256') {
    const note = algGiven ? undefined : await asymmetricKeysNote(config);
    if (sub === 'rotate') {
      io.stderr(
        `hush: with HS256 the signing key is HUSH_SECRET; here that is ${hs256SecretLocation(config)}.\n` +
          'To rotate it without logging anyone out: set HUSH_PREVIOUS_SECRETS to the current secret, set HUSH_SECRET\n' +
          'to a new one (at least 32 bytes, e.g. openssl rand -base64 48), restart every instance, and give resource\n' +
          'services the new secret too. Remove the old one from HUSH_PREVIOUS_SECRETS once HUSH_ACCESS_TTL has passed.\n',
      );
      if (note !== undefined) io.stderr(`hush: ${note}\n`);
      return 1;
    }
    io.stdout(`HS256: the signing secret is ${hs256SecretLocation(config)}; ${config.previousSecrets.length} previous secret(s) still verify\n`);
    if (note !== undefined) io.stderr(`hush: ${note}\n`);
    return 0;
  }
  const alg = config.jwtAlg;
  if (sub === 'rotate') {
    const kid = isPostgresUrl(config.databaseUrl)
      ? await withMigratedStore(config, (store) => rotateSigningKey(keyRepository(config, store), alg))
      : await rotateSigningKey(fileKeyRepository(config), alg);
    const from = new Date(Date.now() + KEY_PUBLISH_LEAD_MS).toISOString();
    io.stdout(
      `new ${alg} key ${kid}: running servers publish it within a minute and sign with it from ${from} ` +
        '(no restart needed); older keys still verify\n',
    );
    return 0;
  }
  const list = isPostgresUrl(config.databaseUrl)
    ? await readOnly(config, (store) => store.listSigningKeys())
    : await fileKeyRepository(config).list();
  const now = Date.now();
  const signing = signingKid(list.filter((k) => k.alg === alg), now, KEY_PUBLISH_LEAD_MS);
  for (const k of list) {
    const signsFrom = k.createdAt.getTime() + KEY_PUBLISH_LEAD_MS;
    const state = k.kid === signing ? 'active' : signsFrom > now ? `published, signs from ${new Date(signsFrom).toISOString()}` : 'verify-only';
    io.stdout(`${k.kid}  ${k.alg}  ${state}  created ${k.createdAt.toISOString()}\n`);
  }
  if (list.length === 0) io.stderr('no keys yet: the server makes one on first start\n');
  return 0;
}

/** Runs a writing command on a migrated store (PostgreSQL key rotation), naming DATABASE_URL when unreachable. */
async function withMigratedStore<T>(config: HushConfig, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(config.databaseUrl);
  try {
    await store.migrate().catch((error: unknown) => {
      throw databaseFailure(error, config.databaseUrl) ?? error;
    });
    return await work(store);
  } finally {
    await store.close();
  }
}

async function decodeToken(io: Io): Promise<number> {
  // A token copied from a request header often comes with its scheme (and the header name).
  const token = (await readSecret(io, 'token')).trim().replace(/^(authorization:\s*)?bearer\s+/i, '').trim();
  const { header, payload } = decode(token);
  io.stdout(`${JSON.stringify({ verified: false, header, payload }, null, 2)}\n`);
  return 0;
}
