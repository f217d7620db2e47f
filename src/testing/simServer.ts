/**
 * The HTTP plumbing both provider simulators share: a real `node:http` server on loopback with a
 * route table, JSON and form bodies, CORS for browser pages, per-route request counts and log,
 * a clock that drives the `Date` header, and injectable faults.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createFaultQueue, type SimFault } from './simFaults.js';
import { withDefaults } from './simHelpers.js';

export type { SimFault } from './simFaults.js';

/** A route key: the method and the path, e.g. `'POST /v2/Auth/Login'`. */
export type RouteKey = string;

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** JSON bodies parsed, form bodies as an object of strings, anything else the raw text. */
  body: unknown;
  rawBody: string;
  contentType: string;
}

export interface SimResponse {
  status: number;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (with `contentType`, default text/plain). */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type SimHandler = (request: SimRequest) => SimResponse | Promise<SimResponse>;

export interface SimLogEntry {
  route: RouteKey;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  status: number | 'dropped' | 'hung';
}

/** What every simulator takes for its clock, its randomness and its address. */
export interface SimCommonOptions {
  /**
   * The simulator's clock (epoch ms): token and code expiry, cooldowns, the `Date` header
   * (default: `Date.now`, as it is when the simulator starts).
   */
  now?: () => number;
  /** Source of randomness for fault probabilities (default: `Math.random`). */
  random?: () => number;
  /** Interface to listen on (default: `'127.0.0.1'`). */
  host?: string;
  /**
   * Called with every request's log entry as it is answered (before the answer is sent): `authcharts
   * simulate` prints them (default: none).
   */
  onRequest?: (entry: SimLogEntry) => void;
}

/** Options of {@link startSimServer} (defaults: {@link simServerDefaults}). */
export interface SimServerOptions extends SimCommonOptions {
  routes: Record<RouteKey, SimHandler>;
  /** Port to listen on (default: 0, any free port). */
  port?: number;
  /** Faults per route key, applied in order (default: none). */
  faults?: Record<RouteKey, SimFault | SimFault[]>;
  /** Largest request body read, in bytes; larger ones get 413 (default: 65 536, 64 KiB). */
  maxRequestBytes?: number;
  /**
   * Headers sent on every answer (faults included), as the stack being imitated adds them: Kestrel's
   * `Server: Kestrel`, Express's `X-Powered-By: Express` (default: none).
   */
  headers?: Record<string, string>;
  /**
   * Sends Express's weak `ETag` (`W/"<length hex>-<sha1 base64, 27 chars>"`, the `etag` package's
   * format) on every answer with a body, as Express's `res.send` does by default (default: false).
   */
  etag?: boolean;
  /** The answer to a route the simulator does not have (default: 404 `{ "message": "Not Found" }`). */
  notFound?: (request: { method: string; path: string }) => SimResponse;
}

/** The values {@link startSimServer} uses for the options it is not given. */
export const simServerDefaults = {
  host: '127.0.0.1',
  port: 0,
  /** 64 KiB. */
  maxRequestBytes: 64 * 1024,
  etag: false,
  /** Answers 404 `{ "message": "Not Found" }`. */
  notFound: (_request: { method: string; path: string }): SimResponse => ({
    status: 404,
    json: { message: 'Not Found' },
  }),
} as const satisfies Omit<SimServerOptions, 'routes'>;

export interface SimServer {
  /** The origin, e.g. `http://127.0.0.1:43123`. */
  readonly url: string;
  readonly port: number;
  /** Requests seen per route key (faulted ones included); unknown routes count under `'unmatched'`. */
  readonly counts: Record<RouteKey, number>;
  /** The most recent requests (at most 10 000), headers included: for tests that check what was sent where. */
  readonly log: SimLogEntry[];
  requestCount(route: RouteKey): number;
  /** Adds a fault to a route (faults apply in the order added). */
  injectFault(route: RouteKey, fault: SimFault): void;
  clearFaults(route?: RouteKey): void;
  resetCounts(): void;
  close(): Promise<void>;
}

const LOG_LIMIT = 10_000;
const corsHeaders = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, x-account-id, x-session-id',
  'Access-Control-Expose-Headers': 'Date, Retry-After',
  'Access-Control-Max-Age': '600',
};

/** The HTML page a failing proxy or server typically sends: what clients must not parse as JSON. */
export const HTML_ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';

/** Express's default ETag for a body: the `etag` package's weak form, `W/"<length hex>-<sha1 base64 27>"`. */
export function weakEtag(body: string): string {
  const bytes = Buffer.from(body, 'utf8');
  const hash = createHash('sha1').update(bytes).digest('base64').substring(0, 27);
  return `W/"${bytes.length.toString(16)}-${hash}"`;
}

/** Starts a simulator server on loopback. */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const config = withDefaults(options, simServerDefaults);
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const counts: Record<RouteKey, number> = Object.create(null);
  const log: SimLogEntry[] = [];
  const faults = createFaultQueue(options.faults ?? {}, random);
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();

  function record(entry: SimLogEntry) {
    log.push(entry);
    if (log.length > LOG_LIMIT) log.splice(0, log.length - LOG_LIMIT);
    try {
      options.onRequest?.(entry);
    } catch {
      // a broken observer must not change what the simulator answers
    }
  }

  function send(res: ServerResponse, response: SimResponse) {
    const headers: Record<string, string> = {
      ...corsHeaders,
      ...options.headers,
      Date: new Date(now()).toUTCString(),
      ...response.headers,
    };
    let body = '';
    let hasBody = false;
    if (response.json !== undefined) {
      body = JSON.stringify(response.json);
      hasBody = true;
      headers['Content-Type'] = 'application/json; charset=utf-8';
    } else if (response.text !== undefined) {
      body = response.text;
      hasBody = true;
      // An empty content type means "send none" (a server that labels nothing).
      const contentType = response.contentType ?? 'text/plain; charset=utf-8';
      if (contentType) headers['Content-Type'] = contentType;
    }
    if (config.etag && hasBody) headers['ETag'] = weakEtag(body);
    headers['Content-Length'] = String(Buffer.byteLength(body));
    res.writeHead(response.status, headers);
    res.end(body);
  }

  async function readBody(req: IncomingMessage): Promise<string | null> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > config.maxRequestBytes) return null;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, { ...corsHeaders, ...options.headers, Date: new Date(now()).toUTCString() });
      res.end();
      return;
    }
    const key = `${method} ${url.pathname}`;
    const handler = options.routes[key];
    const route = handler ? key : 'unmatched';
    counts[route] = (counts[route] ?? 0) + 1;
    const rawBody = await readBody(req);
    if (rawBody === null) {
      record({ route, method, path: url.pathname, headers: req.headers, status: 413 });
      send(res, { status: 413, json: { error: 'request_too_large' } });
      return;
    }
    for (const fault of faults.take(key)) {
      switch (fault.kind) {
        case 'latency':
          await new Promise((r) => setTimeout(r, fault.ms));
          break;
        case 'drop':
          record({ route, method, path: url.pathname, headers: req.headers, status: 'dropped' });
          req.socket.destroy();
          return;
        case 'hang':
          record({ route, method, path: url.pathname, headers: req.headers, status: 'hung' });
          hung.add(res);
          return;
        case 'status':
          record({ route, method, path: url.pathname, headers: req.headers, status: fault.status });
          send(res, {
            status: fault.status,
            text: fault.body ?? HTML_ERROR_PAGE,
            contentType: fault.contentType ?? 'text/html; charset=utf-8',
            ...(fault.headers ? { headers: fault.headers } : {}),
          });
          return;
        case 'malformed':
          record({ route, method, path: url.pathname, headers: req.headers, status: fault.status ?? 200 });
          send(res, {
            status: fault.status ?? 200,
            text: fault.body,
            contentType: fault.contentType ?? 'application/json; charset=utf-8',
          });
          return;
        case 'rateLimit':
          record({ route, method, path: url.pathname, headers: req.headers, status: 429 });
          send(res, {
            status: 429,
            json: { error: 'too_many_requests', error_description: 'Too many requests' },
            headers: { 'Retry-After': fault.retryAfter ?? '1' },
          });
          return;
        case 'trickle': {
          record({ route, method, path: url.pathname, headers: req.headers, status: fault.status ?? 200 });
          const body = fault.body ?? '{"success":true,"data":{}}';
          res.writeHead(fault.status ?? 200, {
            ...corsHeaders,
            ...options.headers,
            'Content-Type': 'application/json',
          });
          let i = 0;
          const tick = setInterval(() => {
            if (res.destroyed || i >= body.length) {
              clearInterval(tick);
              if (!res.destroyed) res.end();
              return;
            }
            res.write(body[i++]);
          }, fault.intervalMs);
          res.on('close', () => clearInterval(tick));
          return;
        }
      }
    }
    if (!handler) {
      const answer = config.notFound({ method, path: url.pathname });
      record({ route, method, path: url.pathname, headers: req.headers, status: answer.status });
      send(res, answer);
      return;
    }
    const contentType = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    let body: unknown = rawBody;
    if (contentType === 'application/json') {
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
    } else if (contentType === 'application/x-www-form-urlencoded') {
      body = Object.fromEntries(new URLSearchParams(rawBody));
    }
    const response = await handler({
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      rawBody,
      contentType,
    });
    record({ route, method, path: url.pathname, headers: req.headers, status: response.status });
    send(res, response);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, { status: 500, text: HTML_ERROR_PAGE, contentType: 'text/html' });
      else res.destroy();
    });
  });
  // Idle keep-alive connections are closed after 10 s: longer than the 5 s a Node client keeps an idle
  // socket by default (the global agent's `timeout`), so a client never reuses a socket the server is
  // closing at that moment; that race answers a request with ECONNRESET on a busy machine.
  server.keepAliveTimeout = 10_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const { host } = config;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    counts,
    log,
    requestCount: (route) => counts[route] ?? 0,
    injectFault: faults.add,
    clearFaults: faults.clear,
    resetCounts() {
      for (const k of Object.keys(counts)) delete counts[k];
      log.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
