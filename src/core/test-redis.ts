/**
 * The Redis that tests use (HUSH_TEST_REDIS_URL, default the local one), and whether they can:
 * the Redis counterpart of store/test-db.ts.
 */
import { connect } from 'node:net';

/** The Redis the tests talk to. */
export const REDIS_TEST_URL = process.env['HUSH_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers PING at {@link REDIS_TEST_URL} within about 2 s. */
export async function redisAvailable(): Promise<boolean> {
  const url = new URL(REDIS_TEST_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379) });
    let answer = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 2000);
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
      // A password-protected Redis answers -NOAUTH: reachable, but not usable by these tests.
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/**
 * What a Redis test suite should do: `false` to run, or a message to skip with. Throws when Redis
 * is unreachable and `CI` is set, since CI must run them.
 */
export async function redisSkipReason(): Promise<string | false> {
  if (await redisAvailable()) return false;
  const message = `Redis is unreachable at ${new URL(REDIS_TEST_URL).host} (set HUSH_TEST_REDIS_URL)`;
  if (process.env['CI']) throw new Error(`${message}; CI is set, so Redis tests must run`);
  return `${message}: Redis tests skipped`;
}
