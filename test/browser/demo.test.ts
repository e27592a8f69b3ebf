// The demo app in chromium: what it tells a person when refreshes fail, when a reload restores the session,
// when the form is empty, and when plain http off localhost drops the refresh cookie.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { appOrigin, artifacts, buildClient, counter, launch, root, signUp, skipReason, waitForView } from './browser.js';

const PASSWORD = 'correct horse battery staple';
/** A name chromium resolves to 127.0.0.1 but treats as any other host: not loopback, not a secure context. */
const LAN_HOST = 'hush-lan.test';

/** A port nothing listens on now (the kernel's pick, released at once). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Saves a screenshot as a test artifact; `doc` also becomes docs/<doc> when missing or with HUSH_UPDATE_SCREENSHOTS. */
async function screenshot(page: Page, name: string, doc?: string): Promise<void> {
  const path = `${artifacts}/demo-${name}.png`;
  await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' });
  if (doc && (!existsSync(`${root}docs/${doc}`) || process.env.HUSH_UPDATE_SCREENSHOTS)) copyFileSync(path, `${root}docs/${doc}`);
}

/** The header's status: its tone (`good`, `warn`, `neutral`) and text. */
async function status(page: Page): Promise<{ tone: string; text: string }> {
  return page.evaluate(() => ({ tone: document.getElementById('status')!.dataset['tone'] ?? '', text: document.getElementById('status-text')!.textContent ?? '' }));
}

describe('the demo in chromium (stateless, 5 s access tokens)', { skip: skipReason, timeout: 150_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let app: string;
  const contexts: BrowserContext[] = [];

  const newPage = async (target: Browser = browser): Promise<Page> => {
    const context = await target.newContext({ viewport: { width: 1200, height: 860 } });
    await context.addInitScript('window.__name = (f) => f'); // see client.test.ts
    contexts.push(context);
    return context.newPage();
  };

  before(async () => {
    buildClient();
    const [started, launched] = await Promise.allSettled([startServer({ env: { HUSH_ACCESS_TTL: '5s' } }), launch()]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    app = appOrigin(server.url);
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });

  it('turns the header amber, "Connection problem — retrying", while refreshes fail, and green once one succeeds', async () => {
    const page = await newPage();
    await page.goto(app);
    await signUp(page, 'hopper', PASSWORD);
    assert.deepEqual(await status(page), { tone: 'good', text: 'Signed in as hopper' });

    // The network fails under the page: every refresh dies (the client stays signed in and retries).
    const failures = counter(page, '/auth/refresh');
    await page.route('**/auth/refresh', (route) => route.abort('internetdisconnected'));
    await page.waitForSelector('#status[data-tone="warn"]', { timeout: 15_000 });
    assert.deepEqual(await status(page), { tone: 'warn', text: 'Connection problem — retrying' });
    // still amber through later failures, and through a 503 with Retry-After
    const seen = failures.value;
    await page.waitForFunction((n) => document.querySelectorAll('#log li[data-tone="warn"]').length >= n, 2, { timeout: 15_000 });
    assert.ok(failures.value > seen || failures.value >= 2, 'the client retried');
    assert.equal((await status(page)).tone, 'warn');
    assert.equal(await page.isVisible('#signed-in-view'), true, 'still signed in');
    await screenshot(page, 'connection-problem', 'demo-connection-problem.png');

    await page.unroute('**/auth/refresh');
    await page.route('**/auth/refresh', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', headers: { 'retry-after': '1' }, body: '{"error":"unavailable","error_description":"busy"}' }),
    );
    const warnings = await page.locator('#log li[data-tone="warn"]').count();
    await page.waitForFunction((n) => document.querySelectorAll('#log li[data-tone="warn"]').length > n, warnings, { timeout: 15_000 });
    assert.deepEqual(await status(page), { tone: 'warn', text: 'Connection problem — retrying' });

    // The server answers again: the next retry succeeds and the header is green.
    await page.unroute('**/auth/refresh');
    await page.waitForSelector('#status[data-tone="good"]', { timeout: 20_000 });
    assert.deepEqual(await status(page), { tone: 'good', text: 'Signed in as hopper' });
    assert.match((await page.textContent('#log li:first-child')) ?? '', /refreshed/);
  });

  it('logs "Session restored by a silent refresh" after a reload and counts it as a refresh', async () => {
    const page = await newPage();
    await page.goto(app);
    await signUp(page, 'lovelace', PASSWORD);
    await page.reload();
    await waitForView(page, 'signed-in');
    await page.waitForSelector('#log li:has-text("Session restored by a silent refresh")');
    const entries = await page.locator('#log li span').allTextContents();
    assert.equal(entries.at(-1), 'Session restored by a silent refresh', `log: ${entries.join(' | ')}`);
    await page.waitForFunction(() => document.getElementById('refreshes')?.textContent !== '0');
    assert.ok(Number(await page.textContent('#refreshes')) >= 1);
    // the countdown shows minutes and seconds, never the placeholder once the token is known
    assert.match((await page.textContent('#countdown')) ?? '', /^\d+:\d\d$/);
  });

  it('with the stateless strategy, asks for /auth/sessions at most once a page load and shows no sessions card', async () => {
    const page = await newPage();
    const sessions = counter(page, '/auth/sessions');
    await page.goto(app);
    await signUp(page, 'liskov', PASSWORD);
    // a password change and a few refreshes: before, each sign-in and password change asked again
    await page.fill('#current-password', PASSWORD);
    await page.fill('#new-password', `${PASSWORD} 2`);
    await page.click('#password-form button[type="submit"]');
    await page.waitForSelector('#password-message[data-tone="good"]');
    await page.waitForFunction(() => Number(document.getElementById('refreshes')?.textContent) >= 1, undefined, { timeout: 15_000 });
    assert.equal(sessions.value, 1, 'one request to learn that the strategy keeps no session list');
    assert.equal(await page.isVisible('#sessions-card'), false);
  });

  it('asks for the username, not its format, when the login form is sent empty', async () => {
    const page = await newPage();
    await page.goto(app);
    await waitForView(page, 'signed-out');
    await page.click('#auth-submit');
    assert.equal(await page.textContent('#auth-error'), 'Enter your username.');
    assert.equal(await page.getAttribute('#username', 'aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'username');
    await page.fill('#username', 'someone');
    await page.click('#auth-submit');
    assert.equal(await page.textContent('#auth-error'), 'Enter your password.');
    assert.equal(await page.isVisible('#insecure-note'), false, 'no plain-http warning on localhost');
  });

  it('on plain http off localhost, says that the reload signed the user out because the Secure cookie was dropped', async () => {
    // The server answers a Host it is configured for only (DNS-rebinding defence), so this one is told
    // the LAN origin people use, as the start-up warning asks.
    const port = await freePort();
    const url = `http://${LAN_HOST}:${port}`;
    const lanServer = await startServer({ env: { PORT: String(port), HUSH_PUBLIC_ORIGIN: url, HUSH_ACCESS_TTL: '5s' } });
    const lan = await launch([`--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`]);
    try {
      const page = await newPage(lan);
      await page.goto(url);
      await waitForView(page, 'signed-out');
      assert.match((await page.textContent('#insecure-note')) ?? '', /A reload will sign you out/);
      await signUp(page, 'dijkstra', PASSWORD); // works: the access token is in memory; the cookie was refused
      await page.reload();
      await waitForView(page, 'signed-out');
      const note = (await page.textContent('#insecure-note')) ?? '';
      assert.match(note, /^You were signed out by the reload: this page is served over plain http from hush-lan\.test:\d+/);
      assert.match(note, /Secure refresh cookie/);
      assert.match(note, /HUSH_COOKIE_SECURE=false/);
      await screenshot(page, 'plain-http-signed-out');
    } finally {
      await lan.close();
      await lanServer.close();
    }
  });
});
