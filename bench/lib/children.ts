/**
 * Server child processes for the HTTP benchmarks, each pinned to one core when `taskset` exists, so
 * that the load generator (this process, pinned to the other core) does not steal the server's CPU.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Whether `taskset` (util-linux) can pin processes here. */
export const hasTaskset: boolean = (() => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Pins every thread of process `pid` (and the threads it starts later) to `cpu`. No-op without taskset. */
export function pin(pid: number, cpu: number): boolean {
  if (!hasTaskset) return false;
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  return true;
}

/**
 * Gives process `pid` the layout of a server whose helper threads have cores of their own: the main
 * thread (the event loop) on `mainCpu`, every other thread (libuv's pool, where argon2 runs; V8's
 * helpers) on `otherCpu` at the lowest priority, so that on this small machine they only take what
 * the load generator sharing `otherCpu` leaves. False when taskset is unavailable.
 */
export function pinSplit(pid: number, mainCpu: number, otherCpu: number): boolean {
  if (!hasTaskset) return false;
  for (const tid of readdirSync(`/proc/${pid}/task`).map(Number)) {
    const main = tid === pid;
    execFileSync('taskset', ['-p', '-c', String(main ? mainCpu : otherCpu), String(tid)], { stdio: 'ignore' });
    if (!main) setPriority(tid, 19);
  }
  return true;
}

/** CPU seconds the machine's processes (every core) have used so far, plus steal, from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: processes' time is user + nice + system; interrupt
    // time (loopback networking runs much of its TCP work there) is nobody's in particular, and left out.
    const busy = (fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0) + (fields[7] ?? 0);
    return busy / clockTicks;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system) consumed so far by process `pid`, in seconds; NaN where /proc is missing. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / clockTicks;
  } catch {
    return Number.NaN;
  }
}

const clockTicks: number = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** This process's environment minus anything hush reads, so a child sees only what it is given. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('HUSH_') && !['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST'].includes(key)) env[key] = value;
  }
  return env;
}

/** A benchmark server child: where it listens and what it announced. */
export interface ChildServer {
  readonly url: string;
  readonly pid: number;
  /** The JSON line the child printed when it started listening. */
  readonly info: Readonly<Record<string, string>>;
  /** The child itself: its stderr, its exit, and its IPC channel when started with one. */
  readonly process: ChildProcess;
  close(): Promise<void>;
}

/** How {@link startChild} starts Node, beyond the script. */
export interface ChildOptions {
  /** Flags for Node before the script (`--max-old-space-size=64`, `--expose-gc`). */
  readonly nodeArgs?: readonly string[];
  /** Opens an IPC channel (`process.send` / `process.on('message')` in the child). */
  readonly ipc?: boolean;
  /** Loads the script through tsx (default); false for a script already compiled to JavaScript. */
  readonly tsx?: boolean;
}

/**
 * Starts `node --import tsx <script>` (relative to the project root) pinned to `cpu`, and resolves
 * once the child prints its start-up line: one JSON object with at least `url`. `childOptions` adds
 * Node flags, an IPC channel, or drops tsx.
 */
export async function startChild(
  script: string,
  env: Record<string, string>,
  cpu: number | undefined,
  childOptions: ChildOptions = {},
): Promise<ChildServer> {
  const args = [...(childOptions.nodeArgs ?? []), ...(childOptions.tsx === false ? [] : ['--import', 'tsx']), script];
  const stdio: ('ignore' | 'pipe' | 'ipc')[] = childOptions.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
  // taskset execs Node in its own process, so the IPC descriptor and the pid pass through unchanged.
  const options = { cwd: root, env: { ...baseEnv(), ...env }, stdio };
  const child: ChildProcess =
    hasTaskset && cpu !== undefined
      ? spawn('taskset', ['-c', String(cpu), process.execPath, ...args], options)
      : spawn(process.execPath, args, options);
  let output = '';
  const info = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        if (!line.startsWith('{"bench":')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, string>);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening:\n${output}`));
    });
  });
  // Keep draining so a chatty child never blocks on a full pipe.
  child.stdout!.resume();
  const url = info['url'];
  if (url === undefined || child.pid === undefined) throw new Error(`${script} announced no url`);
  return {
    url,
    pid: child.pid,
    info,
    process: child,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Prints the start-up line {@link startChild} waits for. Called by the server scripts. */
export function announce(fields: Record<string, string>): void {
  process.stdout.write(`${JSON.stringify({ bench: "1", ...fields })}\n`);
}
