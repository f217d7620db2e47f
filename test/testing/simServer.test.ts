import { afterEach, describe, expect, it } from 'vitest';
import { type SimServer, startSimServer } from '../../src/testing/simServer.js';

let subject: SimServer | undefined;
afterEach(async () => {
  await subject?.close();
  subject = undefined;
});

describe('startSimServer', () => {
  it('applies queued one-time faults to one request each, in order, then answers normally', async () => {
    // arrange
    subject = await startSimServer({ routes: { 'GET /x': () => ({ status: 200, json: { ok: true } }) } });
    subject.injectFault('GET /x', { kind: 'status', status: 503, times: 1 });
    subject.injectFault('GET /x', { kind: 'rateLimit', retryAfter: '7', times: 1 });

    // act
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${subject.url}/x`)).status);

    // assert
    expect(statuses).toEqual([503, 429, 200]);
    expect(subject.requestCount('GET /x')).toBe(3);
  });

  it('adds latency and still answers, and answers CORS preflights', async () => {
    subject = await startSimServer({ routes: { 'GET /x': () => ({ status: 200, text: 'hi' }) } });
    subject.injectFault('GET /x', { kind: 'latency', ms: 50, times: 1 });
    const started = performance.now();
    const response = await fetch(`${subject.url}/x`);
    expect(await response.text()).toBe('hi');
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    const preflight = await fetch(`${subject.url}/x`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-session-id');
  });

  it('counts unknown routes as unmatched and answers 404', async () => {
    subject = await startSimServer({ routes: {} });
    expect((await fetch(`${subject.url}/nope`)).status).toBe(404);
    expect(subject.requestCount('unmatched')).toBe(1);
  });
});
