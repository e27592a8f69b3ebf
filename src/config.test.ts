import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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

  it('takes a DATABASE_URL of PostgreSQL, a file: URL or a path whose folder exists, and refuses anything else naming DATABASE_URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hush-config-'));
    try {
      assert.equal(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/hush' }).databaseUrl, 'postgres://u:p@db:5432/hush');
      assert.equal(loadConfig({ DATABASE_URL: 'postgresql://db/hush' }).databaseUrl, 'postgresql://db/hush');
      assert.equal(loadConfig({ DATABASE_URL: join(dir, 'a.sqlite') }).databaseUrl, join(dir, 'a.sqlite'));
      assert.equal(loadConfig({ DATABASE_URL: pathToFileURL(join(dir, 'b.sqlite')).href }).databaseUrl, join(dir, 'b.sqlite'));
      // The data folder is created at start, so a database inside it may not exist yet.
      const dataDir = join(dir, 'not-yet');
      assert.equal(loadConfig({ HUSH_DATA_DIR: dataDir }).databaseUrl, join(dataDir, 'hush.sqlite'));
      assert.equal(loadConfig({ HUSH_DATA_DIR: dataDir, DATABASE_URL: join(dataDir, 'c.sqlite') }).databaseUrl, join(dataDir, 'c.sqlite'));
      const refusals: Array<[string, RegExp]> = [
        ['mysql://root:hunter2@db/hush', /DATABASE_URL: "mysql:" is not supported/],
        ['redis://db:6379', /DATABASE_URL: "redis:" is not supported/],
        [join(dir, 'missing', 'x.sqlite'), /DATABASE_URL: the folder .*missing does not exist/],
        [dir, /DATABASE_URL: .* is a folder/],
        ['file://remote-host/x.sqlite', /DATABASE_URL: a file: URL must name a local file/],
      ];
      for (const [url, message] of refusals) {
        assert.throws(
          () => loadConfig({ DATABASE_URL: url }),
          (e: Error) => e instanceof ConfigError && message.test(e.message) && !e.message.includes('hunter2'),
          url,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a HUSH_DATA_DIR that is a file, naming HUSH_DATA_DIR', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hush-config-'));
    try {
      writeFileSync(join(dir, 'file'), '');
      assert.throws(() => loadConfig({ HUSH_DATA_DIR: join(dir, 'file') }), /HUSH_DATA_DIR: .*file is a file, not a folder/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a REDIS_URL that is not a redis:// or rediss:// URL, naming REDIS_URL and never repeating the value', () => {
    assert.equal(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(loadConfig({ REDIS_URL: 'rediss://:pw@cache:6380/1' }).redisUrl, 'rediss://:pw@cache:6380/1');
    for (const bad of ['notaurl', 'http://cache:6379', 'cache.internal:6379']) {
      assert.throws(() => loadConfig({ REDIS_URL: bad }), (e: Error) => e instanceof ConfigError && /^REDIS_URL /.test(e.message) && !e.message.includes(bad), bad);
    }
  });

  it('refuses an HUSH_LOG_LEVEL pino does not know, naming HUSH_LOG_LEVEL and the levels', () => {
    assert.equal(loadConfig({ HUSH_LOG_LEVEL: 'DEBUG' }).logLevel, 'debug');
    assert.throws(() => loadConfig({ HUSH_LOG_LEVEL: 'banana' }), /HUSH_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "banana"\)/);
  });

  it('refuses an access-token lifetime longer than the refresh lifetime, naming both settings', () => {
    assert.equal(loadConfig({ HUSH_ACCESS_TTL: '1h', HUSH_REFRESH_TTL: '1h' }).accessTtl, 3600);
    assert.throws(() => loadConfig({ HUSH_ACCESS_TTL: '2h', HUSH_REFRESH_TTL: '1h' }), /HUSH_ACCESS_TTL .* must not be longer than HUSH_REFRESH_TTL/);
  });
});
