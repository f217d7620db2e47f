/** Mrkter: creating the machine (input, defaults, placeholder actors). Run by test/machines/mrkter.test.ts. */
import { describe, expect, it } from 'vitest';
import { createActor, type PromiseActorLogic } from 'xstate';
import { mrkterMachine } from '../../../src/machines/mrkterMachine.js';
import { mrkterActors } from '../../../src/services/mrkter/actors.js';
import type { MrkterApi, TokenSet } from '../../../src/services/types.js';
import { HOUR } from '../harness.js';
import { flush } from './fixtures.js';

describe('mrkterMachine: creation', () => {
  it('starts signed out with the defaults when created without input', () => {
    // Arrange + Act
    const subject = createActor(mrkterMachine).start();

    // Assert
    const snapshot = subject.getSnapshot();
    expect(snapshot.value).toBe('signedOut');
    expect(snapshot.context).toEqual({
      accessToken: null,
      refreshToken: null,
      accessTokenExpiresAt: null,
      refreshAt: null,
      clockSkewMs: 0,
      refreshAttempts: 0,
      identities: [],
      accountId: null,
      phoneNumber: null,
      sessionId: null,
      codeAttempts: 0,
      resendAvailableAt: null,
      error: null,
      autoSelectSingleIdentity: true,
      maxCodeAttempts: 3,
      resendCooldownMs: 30_000,
      refreshLeewayMs: 60_000,
      accessTokenTtlMs: HOUR,
      refreshJitterMs: 60_000,
    });
    subject.stop();
  });

  it('copies the input into context and falls back to the defaults for unusable numbers', () => {
    // Arrange
    const input = {
      autoSelectSingleIdentity: false,
      maxCodeAttempts: 5,
      resendCooldownMs: Number.NaN,
      refreshLeewayMs: -1,
      accessTokenTtlMs: 10_000,
      refreshJitterMs: Number.POSITIVE_INFINITY,
    };

    // Act
    const subject = createActor(mrkterMachine, { input });

    // Assert
    expect(subject.getSnapshot().context).toMatchObject({
      autoSelectSingleIdentity: false,
      maxCodeAttempts: 5,
      resendCooldownMs: 30_000,
      refreshLeewayMs: 60_000,
      accessTokenTtlMs: 10_000,
      refreshJitterMs: 60_000,
    });
  });

  it('has placeholder actors that say how to provide the real ones', async () => {
    // Arrange
    const subject = createActor(
      mrkterMachine.implementations.actors.login as PromiseActorLogic<
        TokenSet,
        { username: string; password: string }
      >,
      {
        input: { username: 'u', password: 'p' },
      },
    );
    subject.subscribe({ error: () => {} });
    subject.start();

    // Act
    await flush();

    // Assert
    const snapshot = subject.getSnapshot() as { status: string; error: unknown };
    expect(snapshot.status).toBe('error');
    expect(String(snapshot.error)).toMatch(/not provided.*mrkterActors\(api\)/);
  });

  it('accepts mrkterActors(api) through provide', () => {
    // Arrange
    const api = {} as MrkterApi;

    // Act
    const provided = mrkterMachine.provide({ actors: mrkterActors(api) });

    // Assert
    expect(provided.id).toBe('mrkter');
  });
});
