/**
 * The whole-exchange deadline the HTTP core and the authorized client give each request: a timer and
 * the abort signal axios reads, in one object.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Deadline, startDeadline } from '../src/time.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('Deadline', () => {
  it('aborts when the time runs out: timedOut, a TimeoutError reason, each listener and onabort told once', () => {
    // arrange
    vi.useFakeTimers();
    const subject = startDeadline(1_000);
    const heard: unknown[] = [];
    const listener = (event: { type: string }) => heard.push(event.type);
    subject.addEventListener('abort', listener);
    subject.addEventListener('abort', listener);
    subject.onabort = (event) => heard.push(`onabort ${event.type}`);

    // act
    vi.advanceTimersByTime(999);
    const early = subject.aborted;
    vi.advanceTimersByTime(1);

    // assert
    expect(early).toBe(false);
    expect(subject.aborted).toBe(true);
    expect(subject.timedOut).toBe(true);
    expect((subject.reason as Error).name).toBe('TimeoutError');
    expect(heard).toEqual(['onabort abort', 'abort']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("follows the caller's signal: aborted with its reason, not timed out, and lets go of it when disarmed", () => {
    // arrange
    vi.useFakeTimers();
    const caller = new AbortController();
    const subject = new Deadline(1_000, caller.signal);
    const later = new AbortController();
    const disarmed = new Deadline(1_000, later.signal);
    const heard: string[] = [];
    disarmed.addEventListener('abort', () => heard.push('disarmed heard it'));

    // act
    caller.abort(new Error('the user went away'));
    disarmed.disarm();
    later.abort();
    vi.advanceTimersByTime(5_000);

    // assert
    expect(subject.aborted).toBe(true);
    expect(subject.timedOut).toBe(false);
    expect((subject.reason as Error).message).toBe('the user went away');
    expect(disarmed.aborted).toBe(false);
    expect(heard).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('is aborted at once for a caller signal already aborted, and keeps no timer without a limit', () => {
    vi.useFakeTimers();
    expect(new Deadline(1_000, AbortSignal.abort()).aborted).toBe(true);
    const unlimited = new Deadline(null);
    expect(vi.getTimerCount()).toBe(0);
    expect(unlimited.aborted).toBe(false);
  });

  it('forgets a removed listener', () => {
    vi.useFakeTimers();
    const subject = startDeadline(10);
    const heard: string[] = [];
    const kept = () => heard.push('kept');
    const removed = () => heard.push('removed');
    subject.addEventListener('abort', removed);
    subject.addEventListener('abort', kept);
    subject.removeEventListener('abort', removed);
    vi.advanceTimersByTime(10);
    expect(heard).toEqual(['kept']);
  });
});
