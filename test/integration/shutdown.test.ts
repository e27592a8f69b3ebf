// Graceful shutdown: SIGTERM lets the requests in flight finish, then the process exits cleanly.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { startServer } from '../helpers/server.js';
import { BASE_ENV } from './helpers/suite.js';

describe('graceful shutdown', () => {
  it('answers every request already in flight when SIGTERM arrives, then exits 0', async () => {
    const server = await startServer({ env: { ...BASE_ENV } });
    try {
      const signup = await fetch(`${server.url}/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'draining', password: 'password1234' }),
      });
      assert.equal(signup.status, 201);
      // Logins take an argon2 verify each (~10 ms), queued on the hashing pool: still running at SIGTERM.
      const inFlight = Array.from({ length: 12 }, () =>
        fetch(`${server.url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', connection: 'close' },
          body: JSON.stringify({ username: 'draining', password: 'password1234' }),
        }).then((r) => ({ status: r.status, at: Date.now() })),
      );
      // Long enough for every request to arrive, short of the ~150 ms their hashing takes in all.
      await new Promise((resolve) => setTimeout(resolve, 60));
      const exited = once(server.process, 'exit');
      const signalledAt = Date.now();
      server.process.kill('SIGTERM');
      const answers = await Promise.all(inFlight);
      assert.deepEqual(answers.map((a) => a.status), Array(12).fill(200));
      assert.ok(answers.some((a) => a.at > signalledAt), 'some requests were still running when the signal came');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
      assert.match(server.output(), /shutting down/);
    } finally {
      await server.close();
    }
  });
});
