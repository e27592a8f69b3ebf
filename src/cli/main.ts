/**
 * The `hush` command: start the server, manage users and keys, decode a token. Passwords and
 * tokens are read from standard input, never from arguments (which other users can see).
 */
import { loadConfig, ConfigError, type HushConfig } from '../config.js';
import { AuthError } from '../core/errors.js';
import { KEY_PUBLISH_LEAD_MS, keyRepository, rotateSigningKey, signingKid } from '../core/keys.js';
import { decode, JwtError } from '../jwt/index.js';
import { createHush, openCore } from '../server.js';
import { openStore } from '../store/index.js';
import { parseArgs, UsageError } from './args.js';

const USAGE = `Usage: hush <command> [options]

Commands:
  start                          serve the auth API (and the demo at /)
  user list                      list users
  user create <username>         create a user; the password is read from standard input
  user set-password <username>   set a password (read from standard input); ends every session
  user suspend <username>        suspend a user; ends every session at once
  user unsuspend <username>      lift a suspension (old sessions stay ended)
  user delete <username>         delete a user and end their sessions
  keys list                      list signing keys
  keys rotate                    add a signing key (EdDSA/ES256): published now, signing in 2 minutes
  token decode                   print a token's header and claims (read from standard input), unverified

Options mirror the environment: --port, --host, --database-url, --redis-url, and --<name> for
HUSH_<NAME> (e.g. --data-dir, --access-ttl 5m, --jwt-alg EdDSA). Secrets are taken only from the
environment. See the README for every variable.`;

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
    const { words, env, help } = parseArgs(argv);
    if (help || words.length === 0) {
      (help ? io.stdout : io.stderr)(`${USAGE}\n`);
      return help ? 0 : 2;
    }
    const config = loadConfig({ ...baseEnv, ...env });
    const [command, sub, ...rest] = words;
    switch (command) {
      case 'start':
        expectWords(rest, 0, 'start');
        if (sub !== undefined) throw new UsageError(`unexpected argument "${sub}"`);
        return await start(config);
      case 'user':
        return await user(config, sub, rest, io);
      case 'keys':
        expectWords(rest, 0, `keys ${sub ?? ''}`);
        return await keys(config, sub, io);
      case 'token':
        if (sub !== 'decode') throw new UsageError('usage: hush token decode  (the token on standard input)');
        expectWords(rest, 0, 'token decode');
        return await decodeToken(io);
      default:
        throw new UsageError(`unknown command "${command}"; see hush --help`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.stderr(`hush: ${error.message}\n`);
      return 2;
    }
    if (error instanceof AuthError || error instanceof JwtError) {
      io.stderr(`hush: ${error.message}\n`);
      return 1;
    }
    io.stderr(`hush: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function expectWords(words: readonly string[], count: number, command: string): void {
  if (words.length !== count) {
    throw new UsageError(count === 0 ? `hush ${command.trim()} takes no more arguments` : `hush ${command} needs ${count} argument(s)`);
  }
}

async function start(config: HushConfig): Promise<number> {
  const hush = await createHush(config);
  const address = await hush.listen();
  hush.log.info({ url: address, strategy: config.refreshStrategy, database: hush.store.kind }, 'hush listening');
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

async function user(config: HushConfig, sub: string | undefined, rest: readonly string[], io: Io): Promise<number> {
  const actions = ['list', 'create', 'set-password', 'suspend', 'unsuspend', 'delete'];
  if (sub === undefined || !actions.includes(sub)) {
    throw new UsageError(`usage: hush user ${actions.join('|')} [<username>]`);
  }
  expectWords(rest, sub === 'list' ? 0 : 1, `user ${sub}`);
  const username = rest[0] ?? '';
  const password = sub === 'create' || sub === 'set-password' ? await readSecret(io, 'password') : '';
  const core = await openCore(config);
  try {
    const service = core.service;
    switch (sub) {
      case 'list': {
        const users = await service.listUsers();
        for (const u of users) {
          io.stdout(`${u.id}  ${u.username}${u.suspended ? '  (suspended)' : ''}  created ${u.createdAt.toISOString()}\n`);
        }
        if (users.length === 0) io.stderr('no users\n');
        break;
      }
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

async function keys(config: HushConfig, sub: string | undefined, io: Io): Promise<number> {
  if (sub !== 'list' && sub !== 'rotate') throw new UsageError('usage: hush keys list|rotate');
  if (config.jwtAlg === 'HS256') {
    if (sub === 'rotate') {
      io.stderr(
        'hush: with HS256 the signing key is HUSH_SECRET, which hush does not store. To rotate it without logging\n' +
          'anyone out: set HUSH_PREVIOUS_SECRETS to the current secret, set HUSH_SECRET to a new one (at least 32\n' +
          'bytes), restart every instance, and give resource services the new secret too. Remove the old one from\n' +
          'HUSH_PREVIOUS_SECRETS once HUSH_ACCESS_TTL has passed.\n',
      );
      return 1;
    }
    io.stdout(`HS256: HUSH_SECRET signs; ${config.previousSecrets.length} previous secret(s) still verify\n`);
    return 0;
  }
  const store = await openStore(config.databaseUrl);
  try {
    await store.migrate();
    const repo = keyRepository(config, store);
    if (sub === 'rotate') {
      const kid = await rotateSigningKey(repo, config.jwtAlg);
      const from = new Date(Date.now() + KEY_PUBLISH_LEAD_MS).toISOString();
      io.stdout(
        `new ${config.jwtAlg} key ${kid}: running servers publish it within a minute and sign with it from ${from} ` +
          '(no restart needed); older keys still verify\n',
      );
      return 0;
    }
    const list = await repo.list();
    const now = Date.now();
    const signing = signingKid(list.filter((k) => k.alg === config.jwtAlg), now, KEY_PUBLISH_LEAD_MS);
    for (const k of list) {
      const signsFrom = k.createdAt.getTime() + KEY_PUBLISH_LEAD_MS;
      const state = k.kid === signing ? 'active' : signsFrom > now ? `published, signs from ${new Date(signsFrom).toISOString()}` : 'verify-only';
      io.stdout(`${k.kid}  ${k.alg}  ${state}  created ${k.createdAt.toISOString()}\n`);
    }
    if (list.length === 0) io.stderr('no keys yet: the server makes one on first start\n');
    return 0;
  } finally {
    await store.close();
  }
}

async function decodeToken(io: Io): Promise<number> {
  const token = (await readSecret(io, 'token')).trim();
  const { header, payload } = decode(token);
  io.stdout(`${JSON.stringify({ verified: false, header, payload }, null, 2)}\n`);
  return 0;
}
