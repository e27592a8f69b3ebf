// Graceful shutdown: SIGTERM lets the requests in flight finish, then the process exits cleanly.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { startServer } from '../helpers/server.js';
import { BASE_ENV } from './helpers/suite.js';

const BODY = JSON.stringify({ username: 'draining', password: 'password1234' });

/**
 * A login whose headers the server has read (it answered `100 Continue`) but whose body is held back until
 * `send()`: in flight for certain, with no guess at how long the request takes to arrive on a loaded machine.
 */
async function heldLogin(url: string): Promise<{ send(): void; answer: Promise<{ status: number; at: number }> }> {
  const req = request(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), expect: '100-continue', connection: 'close' },
  });
  const answer = new Promise<{ status: number; at: number }>((resolve, reject) => {
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, at: Date.now() }));
    });
    req.once('error', reject);
  });
  await Promise.race([once(req, 'continue'), answer.then((a) => assert.fail(`answered ${a.status} before its body was sent`))]);
  return { send: () => req.end(BODY), answer };
}

describe('graceful shutdown', () => {
  it('answers every request already in flight when SIGTERM arrives, then exits 0', async () => {
    const server = await startServer({ env: { ...BASE_ENV } });
    try {
      const signup = await fetch(`${server.url}/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
      assert.equal(signup.status, 201);
      // Twelve logins the server has started reading; each then takes an argon2 verify on the hashing pool,
      // so they are still being worked on well after the signal.
      const held = await Promise.all(Array.from({ length: 12 }, () => heldLogin(server.url)));
      const exited = once(server.process, 'exit');
      const signalledAt = Date.now();
      server.process.kill('SIGTERM');
      for (const login of held) login.send();
      const answers = await Promise.all(held.map((login) => login.answer));
      assert.deepEqual(answers.map((a) => a.status), Array(12).fill(200));
      assert.ok(answers.every((a) => a.at >= signalledAt), 'every request was still running when the signal came');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
      assert.match(server.output(), /shutting down/);
    } finally {
      await server.close();
    }
  });
});
