// hush-auth/client in a real browser: Debian's chromium driving the demo app served by a real `hush start`.
// The eight scenarios of issue 5 (scenario 5, rotating sessions, is in rotating.test.ts).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { appOrigin, artifacts, assertNoTokenStored, buildClient, counter, launch, root, signUp, skipReason, startAttackerSite, waitForView } from './browser.js';

const PASSWORD = 'correct horse battery staple';

/** Scenario 8: screenshots of the demo as test artifacts; the signed-in one also becomes docs/demo.png. */
async function screenshot(page: Page, name: string): Promise<void> {
  const path = `${artifacts}/demo-${name}.png`;
  await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' });
  if (name === 'signed-in' && (!existsSync(`${root}docs/demo.png`) || process.env.HUSH_UPDATE_SCREENSHOTS)) copyFileSync(path, `${root}docs/demo.png`);
}

/** Waits until the demo shows the token's countdown (it has read the token). */
async function countdownShown(page: Page): Promise<void> {
  await page.waitForFunction(() => /\d:\d\d/.test(document.getElementById('countdown')?.textContent ?? ''));
}

describe('hush-auth/client in chromium (stateless, 5 s access tokens)', { skip: skipReason, timeout: 150_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let app: string;
  const contexts: BrowserContext[] = [];

  const newContext = async (): Promise<BrowserContext> => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
    // tsx compiles this file with esbuild's keepNames, whose __name() helper the functions handed to
    // page.evaluate carry into the page
    await context.addInitScript('window.__name = (f) => f');
    contexts.push(context);
    return context;
  };

  before(async () => {
    buildClient();
    // Settled one by one, so that a browser is closed even when the server fails to start (a
    // browser left open would keep this process, and the whole suite, alive).
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

  it('1. after a reload the user is signed in again with one refresh request and no login form shown', async () => {
    const context = await newContext();
    await context.addInitScript(() => {
      const w = window as unknown as { loginShown: boolean };
      w.loginShown = false;
      new MutationObserver(() => {
        const view = document.getElementById('signed-out-view');
        if (view && !view.hidden) w.loginShown = true;
      }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['hidden'] });
    });
    const page = await context.newPage();
    const signedOutRequests = counter(page, '/auth/refresh');
    await page.goto(app);
    await waitForView(page, 'signed-out');
    assert.equal(signedOutRequests.value, 0, 'a signed-out visitor costs no refresh request');
    await screenshot(page, 'signed-out');

    await signUp(page, 'ada', PASSWORD);
    await countdownShown(page);
    await page.click('#call-api');
    await page.waitForSelector('#api-result[data-tone="good"]');
    await screenshot(page, 'signed-in');

    const refreshes = counter(page, '/auth/refresh');
    const logins = counter(page, '/auth/login');
    await page.reload();
    await waitForView(page, 'signed-in');
    assert.equal(refreshes.value, 1);
    assert.equal(logins.value, 0);
    assert.equal(await page.evaluate(() => (window as unknown as { loginShown: boolean }).loginShown), false, 'the login form never showed');
    assert.equal(await page.textContent('#who'), 'ada');
    await assertNoTokenStored(page);
  });

  it('2. with 5 s tokens, calls keep succeeding across several expiries and the app never sees a 401', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(app);
    await signUp(page, 'grace', PASSWORD);
    const refreshes = counter(page, '/auth/refresh');
    const wire: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/api/private') wire.push(r.status());
    });
    const seen = await page.evaluate(async () => {
      const auth = (window as unknown as { auth: { fetch(u: string): Promise<Response> } }).auth;
      const statuses: number[] = [];
      const end = Date.now() + 13_000;
      while (Date.now() < end) {
        statuses.push((await auth.fetch('/api/private')).status);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return statuses;
    });
    assert.ok(seen.length > 30, `${seen.length} calls`);
    assert.deepEqual([...new Set(seen)], [200], 'the app saw only 200s');
    assert.ok(refreshes.value >= 4, `${refreshes.value} refreshes over 13 s of 5 s tokens`);
    assert.equal(wire.filter((s) => s === 401).length, 0, 'refreshed ahead of expiry: not even the network saw a 401');
    await assertNoTokenStored(page);
  });

  it('3. 100 concurrent auth.fetch calls with an expired token make exactly one refresh request', async () => {
    const context = await newContext();
    await context.clock.install();
    const page = await context.newPage();
    await page.goto(app);
    await signUp(page, 'alan', PASSWORD);
    await countdownShown(page);
    const hundred = (): Promise<number[]> =>
      page.evaluate(() => {
        const auth = (window as unknown as { auth: { fetch(u: string): Promise<Response> } }).auth;
        return Promise.all(Array.from({ length: 100 }, () => auth.fetch('/api/private').then((r) => r.status)));
      });
    const wire: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/api/private') wire.push(r.status());
    });

    // The tab sleeps: its timers stop, so nothing refreshes ahead of expiry. Then the laptop wakes up
    // with the wall clock past the token's expiry, and the app makes 100 calls at once.
    // pauseAt must lie ahead of the page's clock: on a loaded machine more than 100 ms can pass between
    // reading it and pausing, so read it again and retry then
    let pausedAt = 0;
    for (let attempt = 1; !pausedAt; attempt++) {
      const at = (await page.evaluate(() => Date.now())) + 100;
      try {
        await page.clock.pauseAt(at);
        pausedAt = at;
      } catch (error) {
        if (attempt >= 5 || !/to the past/.test(String(error))) throw error;
      }
    }
    await page.clock.setSystemTime(pausedAt + 6_000);
    let refreshes = counter(page, '/auth/refresh');
    let statuses = await hundred();
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.equal(refreshes.value, 1);
    assert.deepEqual([...new Set(wire)], [200], 'no call went out with the expired token');

    // Same, but only the server knows the token is no good (it answers 401 invalid_token to it; the real
    // server would after its 30 s leeway): 100 refusals, one shared refresh, 100 retries.
    const stale = await page.evaluate(() => (window as unknown as { auth: { getAccessToken(): Promise<string> } }).auth.getAccessToken());
    await page.route('**/api/private', (route) =>
      route.request().headers()['authorization'] === `Bearer ${stale}`
        ? route.fulfill({ status: 401, contentType: 'application/json', headers: { 'www-authenticate': 'Bearer realm="hush", error="invalid_token"' }, body: '{"error":"invalid_token"}' })
        : route.continue(),
    );
    wire.length = 0;
    refreshes = counter(page, '/auth/refresh');
    statuses = await hundred();
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.equal(refreshes.value, 1);
    assert.equal(wire.filter((s) => s === 401).length, 100, 'each call was refused once');
    assert.equal(wire.filter((s) => s === 200).length, 100, 'and retried once');
    await page.unroute('**/api/private');

    // Scenario 8: the expired-and-refreshed state, as the demo shows it
    await page.waitForSelector('#log li:has-text("had expired")');
    await page.clock.resume();
    await page.click('#call-api');
    await page.waitForSelector('#api-result[data-tone="good"]');
    await screenshot(page, 'expired-and-refreshed');
    await assertNoTokenStored(page);
  });

  it('4. a logout in one tab signs the other tab out within 1 s', async (t) => {
    const context = await newContext();
    const first = await context.newPage();
    await first.goto(app);
    await signUp(first, 'edsger', PASSWORD);
    const second = await context.newPage();
    await second.goto(app);
    await waitForView(second, 'signed-in');
    // timed inside the browser (one clock for both tabs): from the click to the other tab's signed_out event
    await second.evaluate(() => {
      const w = window as unknown as { auth: { onChange(f: (e: { type: string }) => void): void }; signedOutAt?: number };
      w.auth.onChange((e) => {
        if (e.type === 'signed_out') w.signedOutAt = Date.now();
      });
    });
    const clickedAt = await first.evaluate(() => {
      const at = Date.now();
      document.getElementById('logout')!.click();
      return at;
    });
    await waitForView(second, 'signed-out', 2_000);
    const elapsed = (await second.evaluate(() => (window as unknown as { signedOutAt: number }).signedOutAt)) - clickedAt;
    assert.ok(elapsed < 1_000, `the other tab signed out after ${elapsed} ms`);
    t.diagnostic(`logout reached the other tab in ${elapsed} ms`);
    await waitForView(first, 'signed-out');
    assert.equal(await second.evaluate(() => (window as unknown as { auth: { state: string } }).auth.state), 'anonymous');
    // and the session is over for real: a reload stays signed out, without even asking the server
    const refreshes = counter(second, '/auth/refresh');
    await second.reload();
    await waitForView(second, 'signed-out');
    assert.equal(refreshes.value, 0);
    await assertNoTokenStored(first);
    await assertNoTokenStored(second);
  });

  it('6. a page on another site cannot refresh, log the user out or read a token; its form POSTs change nothing', async (t) => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(app);
    await signUp(page, 'barbara', PASSWORD);

    const attacker = await startAttackerSite('<!doctype html><title>totally legit</title><h1>Win a prize</h1>');
    try {
      const evil = await context.newPage();
      const answers: Array<[string, number]> = [];
      evil.on('response', (r) => {
        if (r.url().startsWith(app)) answers.push([`${r.request().method()} ${new URL(r.url()).pathname}`, r.status()]);
      });
      await evil.goto(attacker.url);
      const results = await evil.evaluate(async (target) => {
        const out: Record<string, string> = {};
        const attempt = async (name: string, run: () => Promise<string>): Promise<void> => {
          try {
            out[name] = await run();
          } catch (error) {
            out[name] = `blocked (${(error as Error).name})`;
          }
        };
        const read = async (r: Response): Promise<string> => `read ${r.status} ${await r.text()}`;
        await attempt('refresh with CORS', async () => read(await fetch(`${target}/auth/refresh`, { method: 'POST', credentials: 'include', headers: { 'X-Requested-With': 'x' } })));
        await attempt('refresh without CORS', async () => {
          const r = await fetch(`${target}/auth/refresh`, { method: 'POST', credentials: 'include', mode: 'no-cors' });
          return `${r.type} ${r.status} ${await r.text()}`;
        });
        await attempt('logout without CORS', async () => {
          const r = await fetch(`${target}/auth/logout`, { method: 'POST', credentials: 'include', mode: 'no-cors' });
          return `${r.type} ${r.status}`;
        });
        await attempt('private resource', async () => read(await fetch(`${target}/api/private`, { credentials: 'include' })));
        await attempt('me', async () => read(await fetch(`${target}/auth/me`, { credentials: 'include' })));
        return out;
      }, app);
      t.diagnostic(`from another site: ${JSON.stringify(results)}`);
      for (const [name, outcome] of Object.entries(results)) {
        assert.doesNotMatch(outcome, /^read|eyJ/, `${name}: ${outcome}`);
      }
      assert.deepEqual(results['refresh without CORS'], 'opaque 0 ', 'the answer is opaque to the attacker');

      // Classic CSRF: top-level form POSTs, including a text/plain body shaped like JSON.
      const forms: Array<[string, string, Record<string, string>]> = [
        ['/auth/logout', 'application/x-www-form-urlencoded', { x: '1' }],
        ['/auth/logout-all', 'application/x-www-form-urlencoded', { x: '1' }],
        ['/auth/refresh', 'multipart/form-data', { x: '1' }],
        ['/auth/password', 'text/plain', { '{"currentPassword":"guess","newPassword":"pwned-by-attacker","x":"': '"}' }],
      ];
      for (const [path, enctype, fields] of forms) {
        await evil.goto(attacker.url);
        const response = evil.waitForResponse((r) => r.url() === `${app}${path}`);
        await evil.evaluate(
          ({ action, type, values }) => {
            const form = document.createElement('form');
            form.method = 'POST';
            form.action = action;
            form.enctype = type;
            for (const [name, value] of Object.entries(values)) {
              const input = document.createElement('input');
              input.name = name;
              input.value = value;
              form.append(input);
            }
            document.body.append(form);
            form.submit();
          },
          { action: `${app}${path}`, type: enctype, values: fields },
        );
        const status = (await response).status();
        await evil.waitForURL(`${app}${path}`);
        assert.ok(status === 403 || status === 401, `${path} form POST answered ${status}`);
      }
      for (const [request, status] of answers) {
        assert.ok(status >= 400 || request.startsWith('OPTIONS'), `${request} answered ${status} to the other site`);
      }

      // Nothing changed: the user is still signed in, across a reload, with the same password.
      assert.equal(await page.evaluate(() => (window as unknown as { auth: { fetch(u: string): Promise<Response> } }).auth.fetch('/api/private').then((r) => r.status)), 200);
      await page.reload();
      await waitForView(page, 'signed-in');
      const login = await fetch(`${server.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'barbara', password: PASSWORD }),
      });
      assert.equal(login.status, 200, 'the password was not changed');
      await evil.goto(attacker.url);
      assert.equal(await evil.evaluate(() => `${localStorage.length}${sessionStorage.length}${document.cookie}`), '00');
      await assertNoTokenStored(page);
    } finally {
      await attacker.close();
    }
  });
});
