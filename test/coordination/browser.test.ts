/**
 * Two pages of the React example (`?coordinate=1`) in one Chromium profile share one Marketiger
 * session through `createBrowserCoordinator` (Web Locks and BroadcastChannel work across pages of one
 * origin): the second page starts signed in, a 401 in both pages costs one refresh, and signing out
 * in one signs out the other. Debian's Chromium, headless; the real simulator over loopback.
 *
 * Then browsers without what the coordinator needs: an insecure context (the page opened under a
 * made-up `http://` host name that Chromium maps to 127.0.0.1: no `navigator.locks`), a `localStorage`
 * that throws on write (as Safari's private mode did), no `BroadcastChannel`: no exception, one
 * warning per page, and the session works (one per tab, or still shared where that is safe).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExample, launchChromium, launchChromiumContext, serveStatic } from '../../scripts/browser.js';
import {
  MARKETIGER_DEMO_USER,
  type MarketigerSimulator,
  marketigerRoutes,
  startMarketigerSimulator,
} from '../../src/testing/index.js';

const STEP_MS = 10_000;

let work: string;
let server: Server;
let pageUrl: string;
let sim: MarketigerSimulator;
let context: BrowserContext;
const pageErrors: string[] = [];
/** A made-up host name, mapped to 127.0.0.1 by Chromium: `http://` on it is not a secure context. */
const INSECURE_HOST = 'authcharts-lan.test';
let degraded: Browser;
let serverPort: number;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'authcharts-coordination-'));
  const out = join(work, 'react');
  await buildExample('react', out);
  ({ server } = await serveStatic({ react: out }));
  sim = await startMarketigerSimulator();
  const query = new URLSearchParams({ marketiger: sim.baseURL, coordinate: '1' });
  serverPort = (server.address() as AddressInfo).port;
  pageUrl = `http://127.0.0.1:${serverPort}/react/index.html?${query}`;
  context = await launchChromiumContext(join(work, 'profile'));
  context.setDefaultTimeout(STEP_MS);
  context.on('weberror', (error) => pageErrors.push(error.error().message));
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  await degraded?.close().catch(() => {});
  await sim?.close();
  await new Promise((done) => server?.close(done));
  if (work) await rm(work, { recursive: true, force: true });
});

const panel = (page: Page) => page.locator('#marketiger');
const signedIn = (page: Page) => panel(page).getByRole('heading', { name: 'Signed in' }).waitFor();
const projectsShown = (page: Page) =>
  panel(page)
    .getByTestId('projects')
    .locator('li', { hasText: MARKETIGER_DEMO_USER.projects[0] ?? '' })
    .waitFor();

/** The bearer tokens of the GetProjects requests the simulator answered 200, in order. */
function projectTokens(): string[] {
  return sim.log
    .filter((e) => e.route === marketigerRoutes.getProjects && e.status === 200)
    .map((e) => String(e.headers.authorization ?? ''));
}

describe('React example, two pages, one session (?coordinate=1)', () => {
  let first: Page;
  let second: Page;

  it('a page opened after the sign-in in another starts signed in, without a second login', async () => {
    // Arrange
    first = await context.newPage();
    await first.goto(pageUrl);
    await panel(first).getByLabel('Email').fill(MARKETIGER_DEMO_USER.email);
    await panel(first).getByLabel('Password').fill(MARKETIGER_DEMO_USER.password);
    await panel(first).getByRole('button', { name: 'Sign in' }).click();
    await projectsShown(first);

    // Act
    second = await context.newPage();
    await second.goto(pageUrl);

    // Assert
    await signedIn(second);
    await projectsShown(second);
    expect(sim.requestCount(marketigerRoutes.login)).toBe(1);
  });

  it('401s in both pages at once cause one refresh; both pages stay signed in with the same new token', async () => {
    // Arrange: the refresh takes 500 ms, so the second page's 401 arrives while the first refreshes.
    sim.injectFault(marketigerRoutes.refreshToken, { kind: 'latency', ms: 500, times: 1 });
    sim.expireAccessTokens();
    const before = projectTokens().length;

    // Act
    await Promise.all(
      [first, second].map((page) => panel(page).getByRole('button', { name: 'Reload projects' }).click()),
    );

    // Assert
    await Promise.all([projectsShown(first), projectsShown(second)]);
    const after = projectTokens().slice(before);
    expect(after).toHaveLength(2);
    expect(after[0]).toBe(after[1]);
    expect(sim.refreshCount).toBe(1);
    await Promise.all([signedIn(first), signedIn(second)]);
  });

  it('signing out in one page signs out the other, which says why', async () => {
    // Act
    await panel(second).getByRole('button', { name: 'Sign out' }).click();

    // Assert
    await panel(second).getByRole('button', { name: 'Sign in' }).waitFor();
    await panel(first).getByRole('button', { name: 'Sign in' }).waitFor();
    await panel(first).locator('[role=alert][data-kind=signed_out]').waitFor();
    expect(pageErrors).toEqual([]);
  });
});

describe('browsers without the APIs the coordinator needs', () => {
  beforeAll(async () => {
    degraded = await launchChromium([`--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`]);
  }, 60_000);

  /** A fresh profile with `init` run before each page's own script; its pages, their errors and warnings. */
  async function browserWith(init?: string) {
    const fresh = await degraded.newContext();
    fresh.setDefaultTimeout(STEP_MS);
    if (init) await fresh.addInitScript(init);
    const errors: string[] = [];
    const warnings = new Map<Page, string[]>();
    const open = async (url: string) => {
      const page = await fresh.newPage();
      warnings.set(page, []);
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'warning' && message.text().startsWith('authcharts:')) {
          warnings.get(page)?.push(message.text());
        }
      });
      await page.goto(url);
      return page;
    };
    return { context: fresh, open, errors, warnings: (page: Page) => warnings.get(page) ?? [] };
  }

  async function signIn(page: Page) {
    await panel(page).getByLabel('Email').fill(MARKETIGER_DEMO_USER.email);
    await panel(page).getByLabel('Password').fill(MARKETIGER_DEMO_USER.password);
    await panel(page).getByRole('button', { name: 'Sign in' }).click();
    await projectsShown(page);
  }

  const signInShown = (page: Page) => panel(page).getByRole('button', { name: 'Sign in' }).waitFor();

  it('an insecure context (http:// on a LAN name: no navigator.locks): one session per tab, one warning per page, no exception', async () => {
    // Arrange
    const query = new URLSearchParams({ marketiger: sim.baseURL, coordinate: '1' });
    const url = `http://${INSECURE_HOST}:${serverPort}/react/index.html?${query}`;
    const subject = await browserWith();
    try {
      const first = await subject.open(url);
      expect(await first.evaluate(() => [window.isSecureContext, 'locks' in navigator])).toEqual([
        false,
        false,
      ]);
      await signIn(first);

      // Act: a second tab, and a refresh in the first.
      const second = await subject.open(url);
      await signInShown(second);
      const refreshesBefore = sim.refreshCount;
      sim.expireAccessTokens();
      await panel(first).getByRole('button', { name: 'Reload projects' }).click();
      await projectsShown(first);
      await signIn(second);
      await panel(first).getByRole('button', { name: 'Sign out' }).click();
      await signInShown(first);

      // Assert: each tab its own session (the second started signed out, and stays signed in when the
      // first signs out); the first refreshed on its own; one warning per page, naming the cause.
      await signedIn(second);
      expect(sim.refreshCount).toBe(refreshesBefore + 1);
      expect(subject.warnings(first)).toHaveLength(1);
      expect(subject.warnings(first)[0]).toContain('Web Locks');
      expect(subject.warnings(second)).toHaveLength(1);
      expect(subject.errors).toEqual([]);
    } finally {
      await subject.context.close();
    }
  });

  it('no BroadcastChannel: one session per tab, one warning per page, no exception', async () => {
    // Arrange
    const subject = await browserWith('delete window.BroadcastChannel;');
    try {
      const first = await subject.open(pageUrl);
      expect(await first.evaluate(() => 'BroadcastChannel' in window)).toBe(false);
      await signIn(first);

      // Act
      const second = await subject.open(pageUrl);
      await signInShown(second);
      await signIn(second);
      await panel(first).getByRole('button', { name: 'Sign out' }).click();
      await signInShown(first);

      // Assert: the second tab started signed out, and its own session outlives the first's sign-out.
      await signedIn(second);
      expect(sim.requestCount(marketigerRoutes.login)).toBeGreaterThanOrEqual(2);
      expect(subject.warnings(first)).toHaveLength(1);
      expect(subject.warnings(first)[0]).toContain('BroadcastChannel');
      expect(subject.warnings(second)).toHaveLength(1);
      expect(subject.errors).toEqual([]);
    } finally {
      await subject.context.close();
    }
  });

  it('localStorage that throws on write (Safari private mode): the session is kept in memory and still shared by the tabs, one warning per page, no exception', async () => {
    // Arrange: `&storage=local` makes the example keep the session in localStorage.
    const query = new URLSearchParams({ marketiger: sim.baseURL, coordinate: '1', storage: 'local' });
    const url = `http://127.0.0.1:${serverPort}/react/index.html?${query}`;
    const subject = await browserWith(
      "Storage.prototype.setItem = function () { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };",
    );
    try {
      const first = await subject.open(url);
      await signIn(first);

      // Act
      const second = await subject.open(url);

      // Assert: shared as with the default storage (a new tab starts signed in, a sign-out reaches both).
      await signedIn(second);
      await projectsShown(second);
      await panel(second).getByRole('button', { name: 'Sign out' }).click();
      await signInShown(first);
      expect(subject.warnings(first)).toHaveLength(1);
      expect(subject.warnings(first)[0]).toContain('storage refused');
      expect(subject.errors).toEqual([]);
    } finally {
      await subject.context.close();
    }
  });
});
