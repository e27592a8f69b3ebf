/**
 * Real hush servers for tests: `hush start` in a child process on a free port, talking real HTTP
 * over a socket, with a fresh data folder (SQLite) or a fresh PostgreSQL database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestPostgresDatabase } from '../../src/store/test-db.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(root, 'src/cli/bin.ts');

export interface StartOptions {
  /** Extra environment for the server (HUSH_*, PORT, ...). */
  readonly env?: Record<string, string>;
  /** `sqlite` (default): a new data folder. `postgres`: a new database, dropped on close. */
  readonly database?: 'sqlite' | 'postgres';
  /** Reuse this data folder (for restarts); it is then not deleted on close. */
  readonly dataDir?: string;
}

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly dataDir: string;
  /** The environment the server runs with (for running the CLI against the same data). */
  readonly env: Record<string, string>;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes what it created. */
  close(): Promise<void>;
  readonly process: ChildProcess;
}

/** Secrets fixed for tests that talk to the server with their own keys. */
export const TEST_SECRET = 'test-access-secret-0123456789-abcdefghijklmnop';
export const TEST_REFRESH_SECRET = 'test-refresh-secret-0123456789-abcdefghijklmnop';

/** The environment a test child process runs with: the parent's, minus anything hush reads. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('HUSH_') && key !== 'DATABASE_URL' && key !== 'REDIS_URL' && key !== 'PORT') env[key] = value;
  }
  return env;
}

/** Starts `hush start` and resolves once it listens. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'hush-test-')));
  const pg = options.database === 'postgres' ? await createTestPostgresDatabase() : undefined;
  const env: Record<string, string> = {
    HUSH_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    HUSH_LOG_LEVEL: 'info',
    ...(pg ? { DATABASE_URL: pg.url, HUSH_SECRET: TEST_SECRET, HUSH_REFRESH_SECRET: TEST_REFRESH_SECRET } : {}),
    ...options.env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'start'], {
    cwd: root,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const cleanup = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await pg?.drop().catch(() => undefined);
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
  };
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: a loaded CI machine compiling TypeScript on the fly can take a while.
    const timer = setTimeout(() => reject(new Error(`hush did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"hush listening"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hush exited with ${code} before listening:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    await cleanup();
    throw error;
  });
  return { url, dataDir, env, output: () => output, close: cleanup, process: child };
}

/** Runs the hush CLI with `args` against `env`, feeding `stdin`. */
export async function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: root,
    env: { ...baseEnv(), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(options.stdin ?? '');
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  return { code, stdout, stderr };
}
