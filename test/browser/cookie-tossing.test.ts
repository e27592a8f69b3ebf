// Cookie tossing (issue 8, item 3) in a real browser: two hosts of one site, app.hush.test (hush and its
// demo) and evil.hush.test (a sibling an attacker controls), both mapped to 127.0.0.1 and served over
// https by a small TLS front with a throwaway self-signed certificate, since chromium keeps Secure cookies
// only from secure schemes (--unsafely-treat-insecure-origin-as-secure does not make it keep them).
// The sibling's page sets cookies for the whole site; the victim must neither be signed in as the
// attacker nor locked out.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';
import { buildClient, launch, signUp, skipReason, waitForView } from './browser.js';

const NEW = '__Host-hush-refresh';
const LEGACY = '__Secure-hush-refresh';
const PLAIN = 'hush-refresh';

/** A self-signed certificate for both hosts, made with the openssl CLI in a fresh folder. */
function makeCertificate(dir: string): { key: Buffer; cert: Buffer } {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
    '-subj', '/CN=hush.test', '-addext', 'subjectAltName=DNS:app.hush.test,DNS:evil.hush.test',
  ], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

/** Signs up a user straight at the server (no browser) and returns the refresh token its cookie holds. */
async function refreshTokenOf(server: TestServer, username: string): Promise<string> {
  const response = await fetch(`${server.url}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'correct horse battery staple' }),
  });
  assert.equal(response.status, 201, await response.text());
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${NEW}=`));
  assert.ok(line, 'signup sets the refresh cookie');
  return line.slice(NEW.length + 1, line.indexOf(';'));
}

/** Who the demo shows as signed in after a reload: a username, or undefined when signed out. */
async function whoAfterReload(page: Page, url: string): Promise<string | undefined> {
  await page.goto(url);
  const view = await Promise.race([
    waitForView(page, 'signed-in').then(() => 'in' as const),
    waitForView(page, 'signed-out').then(() => 'out' as const),
  ]);
  return view === 'in' ? ((await page.textContent('#who')) ?? '') : undefined;
}

describe('cookie tossing from a sibling subdomain, in chromium over https', { skip: skipReason, timeout: 150_000 }, () => {
  let dir: string;
  let front: Server;
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let app: string;
  let evil: string;
  /** The Cookie header of every POST /auth/refresh the browser made, as the server received it. */
  const refreshCookies: string[] = [];
  const contexts: BrowserContext[] = [];

  const newPage = async (): Promise<Page> => {
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    // tsx's keepNames helper, which functions handed to page.evaluate carry into the page
    await context.addInitScript('window.__name = (f) => f');
    contexts.push(context);
    return context.newPage();
  };

  /** In the victim's browser, a page of the sibling host sets `cookies` (document.cookie lines) for the whole site. */
  const toss = async (context: BrowserContext, cookies: string[]): Promise<void> => {
    const page = await context.newPage();
    await page.goto(`${evil}/not-the-app`);
    await page.evaluate((lines) => {
      for (const line of lines) document.cookie = line;
    }, cookies);
    await page.close();
  };

  /** Gives a browser the refresh cookie as the server set it before the fixes: __Secure-, host-only, Path=/auth. */
  const plantPreFixCookie = async (context: BrowserContext, token: string): Promise<void> => {
    await context.addCookies([{ name: LEGACY, value: token, domain: 'app.hush.test', path: '/auth', secure: true, httpOnly: true, sameSite: 'Strict' }]);
    const planted = (await context.cookies(app)).concat(await context.cookies(`${app}/auth/refresh`)).find((c) => c.name === LEGACY);
    assert.equal(planted?.path, '/auth');
    assert.equal(planted?.domain, 'app.hush.test', 'host-only, as the server set it');
  };

  before(async () => {
    buildClient();
    dir = mkdtempSync(join(tmpdir(), 'hush-tossing-'));
    const tls = makeCertificate(dir);
    let target = '';
    // The TLS front: terminates https for both hosts and forwards to hush over http, recording refreshes.
    front = createHttpsServer(tls, (req, res) => {
      if (req.url === '/auth/refresh') refreshCookies.push(req.headers.cookie ?? '');
      const upstream = httpRequest(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const { port } = front.address() as AddressInfo;
    app = `https://app.hush.test:${port}`;
    evil = `https://evil.hush.test:${port}`;
    const [started, launched] = await Promise.allSettled([
      startServer({ env: { HUSH_PUBLIC_ORIGIN: app } }),
      launch(['--host-resolver-rules=MAP *.hush.test 127.0.0.1', '--ignore-certificate-errors']),
    ]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    target = server!.url;
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await new Promise((resolve) => front?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a cookie tossed under every name, with Domain and a longer Path, neither signs the victim in as the attacker nor locks them out', async () => {
    const attacker = await refreshTokenOf(server!, 'mallory');
    const page = await newPage();
    await page.goto(app);
    await signUp(page, 'victim');
    refreshCookies.length = 0;
    await toss(page.context(), [
      // The __Host- prefix: the browser refuses these outright (Domain, a Path other than /, or a nameless cookie posing as one).
      `${NEW}=${attacker}; Domain=hush.test; Path=/auth; Secure`,
      `${NEW}=${attacker}; Domain=hush.test; Path=/; Secure`,
      `=${NEW}=${attacker}; Domain=hush.test; Path=/auth; Secure`,
      // The pre-fix name and the unprefixed one: the browser keeps them and sends them first, ahead of the victim's.
      `${LEGACY}=${attacker}; Domain=hush.test; Path=/auth/refresh; Secure`,
      `${PLAIN}=${attacker}; Domain=hush.test; Path=/auth/refresh`,
    ]);
    for (let reload = 0; reload < 3; reload++) {
      assert.equal(await whoAfterReload(page, app), 'victim', `reload ${reload + 1}: still the victim, signed in`);
    }
    assert.ok(refreshCookies.length >= 3, `${refreshCookies.length} refreshes`);
    for (const header of refreshCookies) {
      // The attack did reach the server: the tossed cookies came first...
      assert.ok(header.indexOf(`${LEGACY}=${attacker}`) !== -1 && header.indexOf(`${LEGACY}=${attacker}`) < header.indexOf(`${NEW}=`), header.replace(/=[\w.-]+/g, '=…'));
      // ...but no second __Host- cookie: the prefix kept the name the victim's alone.
      assert.equal(header.split(`${NEW}=`).length - 1, 1);
    }
  });

  it('a browser still holding the pre-fix cookie is migrated on its first refresh and keeps its session', async () => {
    const victim = await refreshTokenOf(server!, 'upgraded');
    const page = await newPage();
    const context = page.context();
    await plantPreFixCookie(page.context(), victim);
    await page.goto(app);
    await page.evaluate(() => localStorage.setItem('hush:session', '1'));
    assert.equal(await whoAfterReload(page, app), 'upgraded', 'the upgrade signed nobody out');
    const names = (await context.cookies(app)).map((c) => `${c.name} ${c.path}`);
    assert.ok(names.includes(`${NEW} /`), names.join(', '));
    assert.ok(!names.some((n) => n.startsWith(LEGACY)), `the pre-fix cookie is gone: ${names.join(', ')}`);
    assert.equal(await whoAfterReload(page, app), 'upgraded');
  });

  it('a browser still holding the pre-fix cookie, tossed one of the same name, is at worst signed out, never signed in as the attacker', async () => {
    const attacker = await refreshTokenOf(server!, 'mallory2');
    const victim = await refreshTokenOf(server!, 'notyetupgraded');
    const page = await newPage();
    await plantPreFixCookie(page.context(), victim);
    await page.goto(app);
    await page.evaluate(() => localStorage.setItem('hush:session', '1'));
    await toss(page.context(), [`${LEGACY}=${attacker}; Domain=hush.test; Path=/auth/refresh; Secure`]);
    const who = await whoAfterReload(page, app);
    assert.notEqual(who, 'mallory2', 'signed in as the attacker');
    assert.equal(who, undefined, 'the server refused the duplicated cookie');
    // Not locked out: signing in sets a __Host- cookie that the tossed one cannot shadow.
    await signUp(page, 'notyetupgraded2');
    assert.equal(await whoAfterReload(page, app), 'notyetupgraded2');
  });
});
