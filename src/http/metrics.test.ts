import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { Metrics } from './metrics.js';

describe('metrics', () => {
  it('count logins, refreshes and their failures by reason, reuse and revocations', async () => {
    const metrics = new Metrics();
    metrics.record({ type: 'login', userId: 'u' });
    metrics.record({ type: 'login_failed', reason: 'unknown_user' });
    metrics.record({ type: 'refresh_failed', reason: 'invalid' });
    metrics.record({ type: 'refresh_reuse', userId: 'u' });
    metrics.revoked({ kind: 'session', sessionId: 's', expiresAt: new Date() });
    const text = await metrics.registry.metrics();
    assert.match(text, /hush_logins_total\{result="success"\} 1/);
    assert.match(text, /hush_logins_total\{result="unknown_user"\} 1/);
    assert.match(text, /hush_refreshes_total\{result="invalid"\} 1/);
    assert.match(text, /hush_refresh_reuse_total 1/);
    assert.match(text, /hush_revocations_total\{kind="session"\} 1/);
  });

  it('time requests by route pattern (never the raw URL) and count 429s', async () => {
    const metrics = new Metrics();
    const app = Fastify();
    metrics.instrument(app);
    app.get('/things/:id', (_request, reply) => void reply.code(429).send());
    await app.inject('/things/secret-looking-id');
    const text = await metrics.registry.metrics();
    assert.match(text, /hush_http_request_duration_seconds_count\{method="GET",route="\/things\/:id",status="429"\} 1/);
    assert.match(text, /hush_rate_limited_total\{route="\/things\/:id"\} 1/);
    assert.doesNotMatch(text, /secret-looking-id/);
    await app.close();
  });

  it('are served on their own port at /metrics only', async () => {
    const metrics = new Metrics();
    const server = await metrics.listen(0, '127.0.0.1');
    const { port } = server.address() as { port: number };
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /hush_logins_total/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
