import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import express from 'express';
import { hushAuth, HushGuardOptionsError } from './express.js';
import { describeGuardOverHttp } from './test-contract.js';

describeGuardOverHttp('Express', async ({ required, optional }) => {
  const app = express();
  // Keeps Express's default error handler from printing the stack of the deliberate 500 test.
  app.set('env', 'test');
  app.get('/private', hushAuth(required), (req, res) => {
    const user = req.user!;
    res.json({ id: user.id, username: user.username, sid: user.claims.sid, roles: user.claims['roles'] });
  });
  app.get('/maybe', hushAuth(optional), (req, res) => {
    res.json({ user: req.user ? { id: req.user.id, username: req.user.username } : null });
  });
  app.get('/public', (req, res) => {
    res.json({ user: req.user ?? null });
  });
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
});

describe('hush-auth/express hushAuth', () => {
  it('throws a HushGuardOptionsError at creation for bad options, before any request', () => {
    assert.throws(() => hushAuth({ secret: 'too-short' }), HushGuardOptionsError);
    assert.throws(() => hushAuth({} as never), /hush guard: give secret/);
  });
});
