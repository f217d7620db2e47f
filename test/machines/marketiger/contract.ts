/** Marketiger: what the machine is (its id, states, events, defaults). Run by test/machines/marketiger.test.ts. */
import { describe, expect, it } from 'vitest';
import { type AnyStateNode, createActor } from 'xstate';
import { marketigerMachine } from '../../../src/machines/marketigerMachine.js';
import { HOUR, PASSWORD, settle } from '../harness.js';
import { start } from './fixtures.js';

describe('marketigerMachine: the contract', () => {
  it('starts signed out without any input, with empty tokens and the documented defaults', () => {
    // arrange / act
    const subject = createActor(marketigerMachine);

    // assert
    const { value, context } = subject.getSnapshot();
    expect(value).toBe('signedOut');
    expect(context).toEqual({
      accessToken: null,
      refreshToken: null,
      accessTokenExpiresAt: null,
      refreshTokenExpiresAt: null,
      refreshAt: null,
      clockSkewMs: 0,
      refreshAttempts: 0,
      error: null,
      projectId: null,
      refreshLeewayMs: 60_000,
      refreshTokenTtlMs: 12 * HOUR,
      accessTokenTtlMs: HOUR,
      refreshJitterMs: 60_000,
    });
  });

  it('takes its configuration from input and ignores values that are not usable numbers', () => {
    // arrange / act
    const subject = createActor(marketigerMachine, {
      input: {
        projectId: 'p-42',
        refreshLeewayMs: -5,
        refreshTokenTtlMs: 0,
        accessTokenTtlMs: Number.NaN,
        refreshJitterMs: 0,
      },
    });

    // assert
    expect(subject.getSnapshot().context).toMatchObject({
      projectId: 'p-42',
      refreshLeewayMs: 60_000,
      refreshTokenTtlMs: 12 * HOUR,
      accessTokenTtlMs: HOUR,
      refreshJitterMs: 0,
    });
  });

  it('has the documented id, states and events', () => {
    // arrange
    const root = marketigerMachine.root;
    const eventsOf = (node: AnyStateNode) =>
      [...node.transitions.keys()].filter((t) => t.startsWith('auth.'));

    // assert
    expect(marketigerMachine.id).toBe('marketiger');
    expect(Object.keys(root.states)).toEqual([
      'signedOut',
      'signingIn',
      'checkingProject',
      'signedIn',
      'sessionExpired',
    ]);
    expect(Object.keys(root.states.signedIn!.states)).toEqual([
      'active',
      // Transient: one rule (refresh token still valid?) on every way into `refreshing`; never a resting value.
      'checkingRefreshToken',
      'refreshing',
      'backingOff',
    ]);
    expect(eventsOf(root.states.signedOut!)).toEqual(['auth.login']);
    expect(eventsOf(root.states.sessionExpired!).sort()).toEqual(['auth.login', 'auth.logout']);
    expect(eventsOf(root.states.signingIn!)).toEqual(['auth.logout']);
    expect(eventsOf(root.states.checkingProject!)).toEqual(['auth.logout']);
    expect(eventsOf(root.states.signedIn!).sort()).toEqual(['auth.logout', 'auth.resume']);
    expect(eventsOf(root.states.signedIn!.states.active!).sort()).toEqual([
      'auth.refresh',
      'auth.tokenRejected',
    ]);
  });

  it('rejects with a clear message when used without its actors', async () => {
    // arrange
    const subject = start(marketigerMachine);

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    await settle();

    // assert
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context.error).not.toBeNull();
  });
});
