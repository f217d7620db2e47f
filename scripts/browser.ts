/**
 * What the browser suites share (`npm run test:browser`, `npm run test:ui-paths`): building an example
 * with Vite, serving the built pages on loopback, and launching Debian's Chromium (/usr/bin/chromium,
 * never a downloaded browser) with the flags that keep it from calling hosts this machine cannot reach.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type LaunchOptions } from 'playwright-core';
import { build } from 'vite';

export const repo = fileURLToPath(new URL('..', import.meta.url));

/** Debian's Chromium; `.ci/run` installs it when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless, no sandbox (CI runs as root), and nothing that calls out to Google's hosts. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const launchOptions: LaunchOptions = { executablePath: CHROMIUM, headless: true, args: chromiumArgs };

/** A browser with its own temporary profile, for suites that open a fresh context per test. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ ...launchOptions, args: [...chromiumArgs, ...extraArgs] });
}

/** One persistent context in `profileDir` (a new, empty directory). */
export function launchChromiumContext(profileDir: string, viewport = { width: 1100, height: 800 }) {
  return chromium.launchPersistentContext(profileDir, {
    ...launchOptions,
    viewport,
  }) as Promise<BrowserContext>;
}

/** Builds `examples/<name>` with its own Vite config into `outDir`. */
export async function buildExample(name: string, outDir: string): Promise<void> {
  const root = join(repo, 'examples', name);
  await build({
    root,
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Serves `/<name>/...` from `roots[name]` on 127.0.0.1 (any free port); nothing outside those directories. */
export async function serveStatic(roots: Record<string, string>): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      const [, name = '', ...rest] = path.split('/');
      const root = roots[name];
      if (!root) throw new Error('no such example');
      const file = resolve(root, rest.join('/') || 'index.html');
      if (!file.startsWith(root + sep) || !(await stat(file)).isFile()) throw new Error('not a file of it');
      res.writeHead(200, { 'Content-Type': contentTypes[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
