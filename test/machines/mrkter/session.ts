/** Mrkter: the signed-in session, and after it expired. Run by test/machines/mrkter.test.ts. */
import { describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS } from '../../../src/time.js';
import { HOUR } from '../harness.js';
import { start, stubApi, tokenSet, toSignedIn } from './fixtures.js';

describe('mrkterMachine: signed in', () => {
  it('clamps the refresh delay: a token expiring in 40 days is not refreshed at once', async () => {
    // Arrange
    const api = stubApi();
    api.login.mockResolvedValue(tokenSet('access-1', 'refresh-1', 40 * 24 * HOUR));
    const subject = start(api);
    await toSignedIn(subject);

    // Act
    await vi.advanceTimersByTimeAsync(60_000);
    const soon = api.refreshTokens.mock.calls.length;
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);

    // Assert
    expect(soon).toBe(0);
    expect(api.refreshTokens).toHaveBeenCalledTimes(1);
  });
});
