import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from './config.js';
import { isLoopbackHost, startupWarnings } from './startup-warnings.js';

const secureCookieWarning = (env: Record<string, string>) =>
  startupWarnings(loadConfig(env)).filter((w) => w.setting === 'HUSH_PUBLIC_ORIGIN' && /Secure/.test(w.message));

describe('start-up warnings', () => {
  it('warn when HOST is off loopback, the cookie is Secure and no https public origin is set (plain http signs users out on reload)', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'myhost.lan']) {
      const [warning, ...more] = secureCookieWarning({ HOST: host });
      assert.ok(warning, host);
      assert.equal(more.length, 0);
      assert.match(warning.message, new RegExp(`HOST=${host.replace(/\./g, '\\.')} serves other machines`));
      assert.match(warning.message, /signed out on every reload/);
      assert.match(warning.message, /HUSH_COOKIE_SECURE=false/);
    }
    assert.equal(secureCookieWarning({ HOST: '0.0.0.0', HUSH_PUBLIC_ORIGIN: 'http://192.168.1.20:3000' }).length, 1, 'an http public origin does not help');
  });

  it('stay silent on loopback, behind an https public origin, and with HUSH_COOKIE_SECURE=false', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.2']) assert.deepEqual(secureCookieWarning({ HOST: host }), [], host);
    assert.deepEqual(secureCookieWarning({ HOST: '0.0.0.0', HUSH_PUBLIC_ORIGIN: 'https://auth.example.com' }), []);
    assert.deepEqual(secureCookieWarning({ HOST: '0.0.0.0', HUSH_COOKIE_SECURE: 'false' }), []);
  });

  it('name allowed origins that are not same-site with the public origin', () => {
    const warnings = startupWarnings(
      loadConfig({ HUSH_PUBLIC_ORIGIN: 'https://auth.example.com', HUSH_ALLOWED_ORIGINS: 'https://app.example.com,https://other.test' }),
    );
    assert.deepEqual(warnings.map((w) => w.setting), ['HUSH_ALLOWED_ORIGINS']);
    assert.match(warnings[0]!.message, /https:\/\/other\.test/);
  });

  it('tell loopback hosts from the others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', 'app.localhost', '::1', '[::1]']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '127.0.0.1.nip.io']) assert.ok(!isLoopbackHost(host), host);
  });
});
