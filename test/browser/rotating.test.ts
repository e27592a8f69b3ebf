// Scenario 5 of issue 5: with the rotating refresh strategy, four tabs refreshing at the same moment with
// the same refresh cookie sign nobody out (the server's reuse grace answers them all with one successor).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { appOrigin, artifacts, assertNoTokenStored, buildClient, counter, launch, signUp, skipReason, waitForView } from './browser.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type PageAuth = { auth: { state: string; fetch(u: string): Promise<Response>; getAccessToken(): Promise<string | null>; renew(t: string, u: string): Promise<string | null> } };

describe('hush-auth/client in chromium (rotating refresh tokens)', { skip: skipReason, timeout: 120_000 }, () => {
  let server: TestServer | undefined;
  let unavailable: string | undefined;
  let browser: Browser;
  let app: string;

  before(async () => {
    buildClient();
    browser = await launch();
    try {
      server = await startServer({ env: { HUSH_REFRESH_STRATEGY: 'rotating', HUSH_ACCESS_TTL: '5s' } });
      app = appOrigin(server.url);
    } catch (error) {
      unavailable = `the server does not start with HUSH_REFRESH_STRATEGY=rotating yet: ${String((error as Error).message).split('\n')[0]}`;
    }
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Four tabs of one browser, all signed in to the same session. */
  async function fourTabs(context: BrowserContext, username: string): Promise<Page[]> {
    await context.addInitScript('window.__name = (f) => f'); // see client.test.ts
    const first = await context.newPage();
    await first.goto(app);
    await signUp(first, username);
    const tabs = [first];
    for (let i = 1; i < 4; i++) {
      const tab = await context.newPage();
      await tab.goto(app);
      await waitForView(tab, 'signed-in');
      tabs.push(tab);
    }
    return tabs;
  }

  /** Every tab still signed in, and its token accepted by the server. */
  async function allSignedIn(tabs: Page[]): Promise<void> {
    for (const [i, tab] of tabs.entries()) {
      const { state, status } = await tab.evaluate(async () => {
        const { auth } = window as unknown as PageAuth;
        return { state: auth.state, status: (await auth.fetch('/api/private')).status };
      });
      assert.deepEqual({ state, status }, { state: 'authenticated', status: 200 }, `tab ${i + 1}`);
    }
  }

  /** Runs the scenario in `context`; returns the most refresh requests that were in flight at once. */
  async function scenario(t: { diagnostic(message: string): void }, context: BrowserContext, username: string): Promise<number> {
    const tabs = await fourTabs(context, username);
    const refreshes = counter(context, '/auth/refresh');
    // how many refresh requests were in flight at once (several means the same cookie was shown concurrently)
    let inFlight = 0;
    let maxOverlap = 0;
    context.on('request', (r) => {
      if (new URL(r.url()).pathname === '/auth/refresh') maxOverlap = Math.max(maxOverlap, ++inFlight);
    });
    const done = (r: { url(): string }): void => {
      if (new URL(r.url()).pathname === '/auth/refresh') inFlight--;
    };
    context.on('requestfinished', done);
    context.on('requestfailed', done);
    let before = 0;
    const phase = (name: string): void => {
      t.diagnostic(`${name}: ${refreshes.value - before} refresh requests, at most ${maxOverlap} in flight at once`);
      before = refreshes.value;
      peak = Math.max(peak, maxOverlap);
      maxOverlap = inFlight;
    };
    let peak = 0;

    // 1. all four reload at once: four start-up refreshes with the same cookie
    await Promise.all(tabs.map((tab) => tab.reload()));
    await Promise.all(tabs.map((tab) => waitForView(tab, 'signed-in')));
    await allSignedIn(tabs);
    phase('simultaneous reload of 4 tabs');

    // 2. all four force a refresh at the same instant (each with the token it holds), three times over
    for (let round = 0; round < 3; round++) {
      const held = await Promise.all(tabs.map((tab) => tab.evaluate(() => (window as unknown as PageAuth).auth.getAccessToken())));
      await Promise.all(
        tabs.map((tab, i) =>
          tab.evaluate(({ token }) => (window as unknown as PageAuth).auth.renew(token, `${location.origin}/api/private`), { token: held[i]! }),
        ),
      );
      await allSignedIn(tabs);
      phase(`simultaneous forced refresh, round ${round + 1}`);
    }

    // 3. and the 5 s tokens keep refreshing in every tab for a while
    await sleep(6_000);
    await allSignedIn(tabs);
    phase('6 s of 5 s tokens');

    // the cookie chain is intact: a fresh reload still restores the session
    await tabs[0]!.reload();
    await waitForView(tabs[0]!, 'signed-in');
    await allSignedIn(tabs);
    for (const tab of tabs) await assertNoTokenStored(tab);
    assert.ok(refreshes.value >= 4, `${refreshes.value} refreshes`);
    return peak;

    // the demo lists the one session the four tabs share
    const first = tabs[0]!;
    await first.waitForSelector('#sessions-card:not([hidden]) #sessions li');
    assert.equal(await first.locator('#sessions li').count(), 1);
    await first.screenshot({ path: `${artifacts}/demo-sessions-${username}.png`, fullPage: true, animations: 'disabled' });
  }

  it('5. four tabs refreshing at the same moment: nobody is signed out', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const context = await browser.newContext();
    try {
      await scenario(t, context, 'tabby');
    } finally {
      await context.close();
    }
  });

  it('5b. the same without Web Locks: the server\'s reuse grace alone keeps everyone signed in', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const context = await browser.newContext();
    await context.addInitScript("Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined })");
    try {
      const concurrent = await scenario(t, context, 'lockless');
      assert.ok(concurrent >= 2, 'the tabs did show the same refresh cookie concurrently');
    } finally {
      await context.close();
    }
  });
});

