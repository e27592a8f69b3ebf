import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config.js';
import { isLoopback, originWarnings as warningsOf } from './origins.js';

const originWarnings = (config: ReturnType<typeof loadConfig>): string[] => warningsOf(config).map((w) => w.message);

describe('start-up warnings about origins and cookies', () => {
  it('are silent for the defaults (loopback, no allowed origins, Secure cookie)', () => {
    assert.deepEqual(originWarnings(loadConfig({})), []);
    assert.deepEqual(originWarnings(loadConfig({ HOST: '::1' })), []);
  });

  it('warn when listening off loopback without HUSH_PUBLIC_ORIGIN, and not with it', () => {
    const [warning, ...rest] = originWarnings(loadConfig({ HOST: '0.0.0.0' }));
    assert.match(warning ?? '', /listening on 0\.0\.0\.0 without HUSH_PUBLIC_ORIGIN/);
    assert.deepEqual(rest, []);
    assert.deepEqual(originWarnings(loadConfig({ HOST: '0.0.0.0', HUSH_PUBLIC_ORIGIN: 'https://auth.example.com' })), []);
  });

  it('warn about each plain-http allowed origin that is not loopback', () => {
    const warnings = originWarnings(loadConfig({ HUSH_ALLOWED_ORIGINS: 'http://app.example.com,https://ok.example.com,http://localhost:5173,http://127.0.0.1:8080,http://[::1]:3000' }));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /http:\/\/app\.example\.com, a plain-http origin/);
  });

  it('warn about HUSH_COOKIE_SECURE=false (an unprefixed cookie) when it is allowed at all', () => {
    const warnings = originWarnings(loadConfig({ HUSH_COOKIE_SECURE: 'false' }));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /HUSH_COOKIE_SECURE=false.*sibling subdomain/);
  });
});

describe('loopback names', () => {
  it('are localhost, 127.0.0.0/8 and ::1, bracketed or not, and nothing that merely starts like them', () => {
    for (const name of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) assert.equal(isLoopback(name), true, name);
    for (const name of ['0.0.0.0', '::', '127.0.0.1.evil.example', 'localhost.evil.example', '128.0.0.1', '10.0.0.1']) assert.equal(isLoopback(name), false, name);
  });
});
