import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseDuration } from './config.js';

describe('configuration', () => {
  it('has the defaults of the contract', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.jwtAlg, 'HS256');
    assert.equal(c.accessTtl, 600);
    assert.equal(c.refreshTtl, 30 * 86400);
    assert.equal(c.sessionMax, 90 * 86400);
    assert.equal(c.refreshStrategy, 'stateless');
    assert.equal(c.reuseGrace, 10);
    assert.equal(c.cookieSecure, true);
    assert.equal(c.cookieSameSite, 'strict');
    assert.equal(c.serverRefresh, false);
    assert.equal(c.rateLimit, true);
    assert.equal(c.trustProxy, false);
    assert.equal(c.demo, true);
    assert.equal(c.issuer, 'hush');
    assert.equal(c.audience, 'hush');
    assert.ok(c.databaseUrl.endsWith('/data/hush.sqlite'));
  });

  it('reads durations as 90s, 10m, 24h, 30d or seconds', () => {
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('10m'), 600);
    assert.equal(parseDuration('24h'), 86400);
    assert.equal(parseDuration('30d'), 2592000);
    assert.equal(parseDuration('45'), 45);
    for (const bad of ['', '0', '-5', '10x', '1.5m', 'ten']) assert.throws(() => parseDuration(bad), ConfigError, bad);
  });

  it('refuses short secrets, equal secrets and bad values, naming the variable but not the secret', () => {
    assert.throws(() => loadConfig({ HUSH_SECRET: 'short' }), /HUSH_SECRET must be at least 32 bytes/);
    const same = 'x'.repeat(40);
    assert.throws(() => loadConfig({ HUSH_SECRET: same, HUSH_REFRESH_SECRET: same }), (e: Error) => /must differ/.test(e.message) && !e.message.includes(same));
    assert.throws(() => loadConfig({ HUSH_JWT_ALG: 'none' }), /HUSH_JWT_ALG/);
    assert.throws(() => loadConfig({ HUSH_REFRESH_STRATEGY: 'sometimes' }), /HUSH_REFRESH_STRATEGY/);
    assert.throws(() => loadConfig({ PORT: '70000' }), /PORT/);
    assert.throws(() => loadConfig({ HUSH_ALLOWED_ORIGINS: 'https://a.example.com/path' }), /bare origin/);
    assert.throws(() => loadConfig({ HUSH_TRUST_PROXY: 'true' }), /HUSH_TRUST_PROXY/);
    assert.throws(() => loadConfig({ HUSH_ACCESS_TTL: '10m', HUSH_REFRESH_TTL: '30d', HUSH_SESSION_MAX: '1d' }), /HUSH_SESSION_MAX/);
  });

  it('parses lists, switches and proxies', () => {
    const c = loadConfig({
      HUSH_ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173',
      HUSH_SERVER_REFRESH: 'on',
      HUSH_RATE_LIMIT: 'off',
      HUSH_COOKIE_SECURE: 'false',
      HUSH_TRUST_PROXY: '10.0.0.0/8,127.0.0.1',
    });
    assert.deepEqual(c.allowedOrigins, ['https://app.example.com', 'http://localhost:5173']);
    assert.equal(c.serverRefresh, true);
    assert.equal(c.rateLimit, false);
    assert.equal(c.cookieSecure, false);
    assert.deepEqual(c.trustProxy, ['10.0.0.0/8', '127.0.0.1']);
    assert.equal(loadConfig({ HUSH_TRUST_PROXY: '2' }).trustProxy, 2);
  });
});
