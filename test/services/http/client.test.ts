import { AxiosHeaders } from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { isAuthError } from '../../../src/errors.js';
import { createHttpClient } from '../../../src/services/http/client.js';
import { flattenHeaders } from '../../../src/services/http/headers.js';
import { parseRetryAfter, statusError } from '../../../src/services/http/status.js';
import { assertSecureBaseUrl, secureBaseUrl } from '../../../src/services/http/urls.js';
import { type SimServer, startSimServer } from '../../../src/testing/simServer.js';

let server: SimServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (!isAuthError(error)) throw error;
    return error;
  }
  throw new Error('expected a rejection');
}

describe('assertSecureBaseUrl', () => {
  it.each([
    'https://api.example.com/v2',
    'http://localhost:8080',
    'http://127.0.0.1:1/x',
    'http://127.8.9.10',
    'http://[::1]:3000',
  ])('allows %s', (url) => expect(() => assertSecureBaseUrl(url)).not.toThrow());
  it.each([
    'http://example.com',
    'http://localhost.evil.com',
    'ftp://localhost',
    'http://128.0.0.1',
    'not a url',
    'https://user:pw@host',
  ])('refuses %s as insecure_url', (url) =>
    expect(() => assertSecureBaseUrl(url)).toThrowError(expect.objectContaining({ kind: 'insecure_url' })),
  );
});

describe('secureBaseUrl', () => {
  it('gives the URL without a trailing slash and its origin, the same when asked again', () => {
    expect(secureBaseUrl('https://api.example.com/v2/')).toEqual({
      href: 'https://api.example.com/v2',
      origin: 'https://api.example.com',
      hostname: 'api.example.com',
    });
    expect(secureBaseUrl('https://api.example.com/v2/').href).toBe('https://api.example.com/v2');
    // A refused URL right after an accepted one is refused, every time.
    for (let i = 0; i < 2; i++)
      expect(() => secureBaseUrl('http://api.example.com')).toThrowError(
        expect.objectContaining({ kind: 'insecure_url' }),
      );
  });
});

describe('flattenHeaders', () => {
  it('reads AxiosHeaders and Node header objects alike: names lower-cased, lists joined, unset values left out', () => {
    const axiosHeaders = new AxiosHeaders({ 'Content-Type': 'application/json', 'X-Count': 3 });
    axiosHeaders.set('set-cookie', ['a=1', 'b=2']);
    axiosHeaders.set('x-removed', false as never);
    expect(flattenHeaders(axiosHeaders)).toEqual({
      'content-type': 'application/json',
      'x-count': '3',
      'set-cookie': 'a=1, b=2',
    });
    expect(flattenHeaders({ 'retry-after': '2', 'set-cookie': ['a=1'], missing: undefined })).toEqual({
      'retry-after': '2',
      'set-cookie': 'a=1',
    });
    expect(flattenHeaders(undefined)).toEqual({});
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and clamps absurd values to an hour', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('99999999', now)).toBe(3_600_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('createHttpClient over loopback', () => {
  it('sends JSON and form bodies and answers every status with the parsed body and the skew', async () => {
    // arrange: a server whose clock runs 5 minutes ahead
    server = await startSimServer({
      now: () => Date.now() + 300_000,
      routes: {
        'POST /echo': (req) => ({ status: 201, json: { got: req.body, type: req.contentType } }),
        'GET /teapot': () => ({ status: 418, text: 'short and stout' }),
      },
    });
    const subject = createHttpClient(server.url);

    // act
    const json = await subject.request({ method: 'POST', path: '/echo', json: { a: 1 } });
    const form = await subject.request({
      method: 'POST',
      path: '/echo',
      form: { grant_type: 'password', x: 'a b' },
    });
    const teapot = await subject.request({ method: 'GET', path: '/teapot' });

    // assert
    expect(json.status).toBe(201);
    expect(json.json).toEqual({ got: { a: 1 }, type: 'application/json' });
    expect(form.json).toEqual({
      got: { grant_type: 'password', x: 'a b' },
      type: 'application/x-www-form-urlencoded',
    });
    expect(teapot.status).toBe(418);
    expect(teapot.json).toBeUndefined();
    expect(teapot.text).toBe('short and stout');
    expect(json.clockSkewMs).toBeGreaterThan(298_000);
    expect(json.clockSkewMs).toBeLessThan(302_000);
  });

  it('refuses absolute and protocol-relative paths before sending anything', async () => {
    server = await startSimServer({ routes: {} });
    const subject = createHttpClient(server.url);
    for (const path of ['https://evil.example/x', '//evil.example/x', 'x']) {
      expect((await rejection(subject.request({ method: 'GET', path }))).kind).toBe('insecure_url');
    }
    expect(server.log).toHaveLength(0);
  });

  it('refuses CR/LF in a header value before sending anything', async () => {
    server = await startSimServer({ routes: { 'GET /x': () => ({ status: 200, json: {} }) } });
    const subject = createHttpClient(server.url);
    const error = await rejection(
      subject.request({ method: 'GET', path: '/x', headers: { 'x-session-id': 'a\r\nSet-Cookie: b' } }),
    );
    expect(error.kind).toBe('bad_response');
    expect(server.requestCount('GET /x')).toBe(0);
  });

  it('times out a server that never answers, and one whose body trickles in', async () => {
    server = await startSimServer({
      routes: {},
      faults: {
        'GET /hang': { kind: 'hang' },
        'GET /trickle': { kind: 'trickle', intervalMs: 50, body: '{"a":"0123456789"}' },
      },
    });
    const subject = createHttpClient(server.url, { timeoutMs: 200 });
    expect((await rejection(subject.request({ method: 'GET', path: '/hang' }))).kind).toBe('timeout');
    expect((await rejection(subject.request({ method: 'GET', path: '/trickle' }))).kind).toBe('timeout');
  });

  it('reports a dropped connection and a closed port as network errors', async () => {
    server = await startSimServer({ routes: {}, faults: { 'GET /drop': { kind: 'drop' } } });
    const subject = createHttpClient(server.url);
    const dropped = await rejection(subject.request({ method: 'GET', path: '/drop' }));
    expect(dropped.kind).toBe('network');
    expect(dropped.retryable).toBe(true);
    const url = server.url;
    await server.close();
    server = undefined;
    expect((await rejection(createHttpClient(url).request({ method: 'GET', path: '/x' }))).kind).toBe(
      'network',
    );
  });

  it('rejects with aborted when the caller aborts', async () => {
    server = await startSimServer({ routes: {}, faults: { 'GET /hang': { kind: 'hang' } } });
    const subject = createHttpClient(server.url);
    const controller = new AbortController();
    const pending = subject.request({ method: 'GET', path: '/hang', signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect((await rejection(pending)).kind).toBe('aborted');
  });

  it('refuses a body over the size limit', async () => {
    server = await startSimServer({
      routes: { 'GET /big': () => ({ status: 200, text: 'x'.repeat(10_000) }) },
    });
    const subject = createHttpClient(server.url, { maxResponseBytes: 1000 });
    expect((await rejection(subject.request({ method: 'GET', path: '/big' }))).kind).toBe('bad_response');
  });

  it('does not follow a redirect to another origin', async () => {
    server = await startSimServer({
      routes: { 'GET /moved': () => ({ status: 302, headers: { Location: 'http://127.0.0.2:9/steal' } }) },
    });
    const subject = createHttpClient(server.url);
    const response = await subject.request({
      method: 'GET',
      path: '/moved',
      headers: { Authorization: 'Bearer t' },
    });
    expect(response.status).toBe(302);
    expect(statusError(response).kind).toBe('bad_response');
  });
});

describe('statusError', () => {
  const response = (status: number, headers: Record<string, string> = {}) => ({
    status,
    headers,
    text: '',
    json: undefined,
    clockSkewMs: 0,
    receivedAt: Date.now(),
  });
  it.each([
    [429, 'rate_limited'],
    [500, 'server'],
    [503, 'server'],
    [401, 'session_expired'],
    [403, 'no_permission'],
    [404, 'bad_response'],
  ])('maps %i to %s', (status, kind) => {
    expect(statusError(response(status)).kind).toBe(kind);
  });
  it('gives rate_limited the wait from Retry-After', () => {
    expect(statusError(response(429, { 'retry-after': '3' })).retryAfterMs).toBe(3000);
  });
});
