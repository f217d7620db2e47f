/** Mrkter: mrkterActors (the actors' contract with the service). Run by test/machines/mrkter.test.ts. */
import { describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import type { AuthError } from '../../../src/errors.js';
import { mrkterActors } from '../../../src/services/mrkter/actors.js';
import type { MrkterApi } from '../../../src/services/types.js';
import { alice, flush, tokenSet } from './fixtures.js';

describe('mrkterActors', () => {
  it('passes exactly the inputs and the abort signal to the service', async () => {
    // Arrange
    const tokens = tokenSet('a', 'r');
    const api = {
      login: vi.fn(async () => tokens),
      loadIdentities: vi.fn(async () => [alice]),
      requestCode: vi.fn(async () => {}),
      verifyCode: vi.fn(async () => ({ sessionId: 's' })),
      refreshTokens: vi.fn(async () => tokens),
    } as unknown as MrkterApi & Record<string, ReturnType<typeof vi.fn>>;
    const actors = mrkterActors(api);
    const run = async (logic: unknown, input: unknown) => {
      const actor = createActor(logic as typeof actors.login, { input: input as never }).start();
      await flush();
      return actor.getSnapshot().output;
    };

    // Act
    const outputs = [
      await run(actors.login, { username: 'u', password: 'p' }),
      await run(actors.loadIdentities, { accessToken: 'a' }),
      await run(actors.requestCode, { accessToken: 'a', phoneNumber: '+1' }),
      await run(actors.verifyCode, { accessToken: 'a', accountId: 1, code: 'c' }),
      await run(actors.refreshTokens, { refreshToken: 'r' }),
    ];

    // Assert
    expect(outputs).toEqual([tokens, [alice], undefined, { sessionId: 's' }, tokens]);
    expect(api.login).toHaveBeenCalledWith(
      { username: 'u', password: 'p' },
      { signal: expect.any(AbortSignal) },
    );
    expect(api.loadIdentities).toHaveBeenCalledWith(
      { accessToken: 'a' },
      { signal: expect.any(AbortSignal) },
    );
    expect(api.requestCode).toHaveBeenCalledWith(
      { accessToken: 'a', phoneNumber: '+1' },
      { signal: expect.any(AbortSignal) },
    );
    expect(api.verifyCode).toHaveBeenCalledWith(
      { accessToken: 'a', accountId: 1, code: 'c' },
      { signal: expect.any(AbortSignal) },
    );
    expect(api.refreshTokens).toHaveBeenCalledWith(
      { refreshToken: 'r' },
      { signal: expect.any(AbortSignal) },
    );
  });

  it('does not call the refresh endpoint without a refresh token', async () => {
    // Arrange
    const api = { refreshTokens: vi.fn() } as unknown as MrkterApi;
    const actor = createActor(mrkterActors(api).refreshTokens, { input: { refreshToken: '' } });
    actor.subscribe({ error: () => {} });

    // Act
    actor.start();
    await flush();

    // Assert
    expect(api.refreshTokens).not.toHaveBeenCalled();
    expect((actor.getSnapshot().error as AuthError).kind).toBe('session_expired');
  });
});
