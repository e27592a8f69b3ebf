/**
 * Chromium for the browser suite: finds Debian's chromium, launches it through playwright-core, builds the
 * client bundle the demo loads, and checks what a page keeps in storage.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const artifacts = `${root}test-artifacts`;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Why the suite can't run here, or undefined when it can. Without chromium the suite is skipped locally,
 * but under CI (env CI set) it must run, so there it is never skipped and the launch fails loudly.
 */
export const skipReason: string | undefined =
  existsSync(CHROMIUM) || process.env.CI
    ? undefined
    : `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH); browser tests skipped`;

/** Launches headless chromium with the flags that keep it quiet and deterministic in CI, and `extraArgs`. */
export async function launch(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is required for the browser tests under CI: not found at ${CHROMIUM}`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/** Builds dist/client/hush-client.js, which the server serves at /assets/ (it lists its files at start-up). */
export function buildClient(): void {
  const result = spawnSync(process.execPath, ['scripts/build-client.mjs'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`client build failed:\n${result.stderr}`);
  mkdirSync(artifacts, { recursive: true });
}

/** The app's origin as the browser should use it: `localhost` (a secure context, like production https). */
export function appOrigin(serverUrl: string): string {
  return serverUrl.replace('127.0.0.1', 'localhost');
}

/** Waits until the demo shows `view` (`signed-in`, `signed-out`, `loading`). */
export async function waitForView(page: Page, view: 'signed-in' | 'signed-out', timeout = 10_000): Promise<void> {
  await page.waitForSelector(`#${view}-view:not([hidden])`, { timeout });
}

/** Signs up through the demo's form and waits for the signed-in view. */
export async function signUp(page: Page, username: string, password = 'correct horse battery staple'): Promise<void> {
  await waitForView(page, 'signed-out');
  await page.click('#tab-signup');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#auth-submit');
  await waitForView(page, 'signed-in');
}

/**
 * Scenario 7: the page keeps no access token in localStorage, sessionStorage or a readable cookie — only
 * the constant session hint.
 */
export async function assertNoTokenStored(page: Page): Promise<void> {
  const found = await page.evaluate(async () => {
    const auth = (window as unknown as { auth: { getAccessToken(): Promise<string | null> } }).auth;
    const token = await auth.getAccessToken();
    const dump = (s: Storage): Record<string, string> => Object.fromEntries(Array.from({ length: s.length }, (_, i) => [s.key(i)!, s.getItem(s.key(i)!)!]));
    return { token, local: dump(localStorage), session: dump(sessionStorage), cookie: document.cookie };
  });
  const stored = JSON.stringify([found.local, found.session, found.cookie]);
  if (found.token) assert.ok(!stored.includes(found.token), 'the access token is in storage or a readable cookie');
  assert.doesNotMatch(stored, /eyJ[\w-]{8,}\.[\w-]{8,}\./, 'something JWT-like is stored');
  assert.deepEqual(Object.keys(found.local).filter((k) => k !== 'hush:session'), [], 'only the session hint in localStorage');
  assert.ok(['1', undefined].includes(found.local['hush:session']), 'the hint holds no secret');
  assert.deepEqual(found.session, {});
  assert.equal(found.cookie, '', 'no cookie readable by scripts');
}

/** Serves `html` at http://127.0.0.1:<port>/ — another site than http://localhost. */
export async function startAttackerSite(html: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Counts the requests pages of `context` make to a path (e.g. `/auth/refresh`), from now on. */
export function counter(target: { on(event: 'request', fn: (r: { url(): string; method(): string }) => void): unknown }, path: string): { value: number } {
  const count = { value: 0 };
  target.on('request', (r) => {
    if (new URL(r.url()).pathname === path) count.value++;
  });
  return count;
}
