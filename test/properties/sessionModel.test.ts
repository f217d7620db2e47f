import fc from 'fast-check';
import { describe, it } from 'vitest';
import { sessionModelProperty } from './sessionModel.js';

/** Few runs in `npm test`; `npm run soak` runs as many as fit its time budget. */
const RUNS = Number(process.env['MODEL_RUNS'] ?? 15);

describe('session model: login, 401 storms, refresh, logout, stop, restore and clock jumps in any order', () => {
  it('Marketiger keeps one refresh in flight, never resends a rotated token, sends nothing after logout, leaks nothing', async () => {
    await fc.assert(sessionModelProperty('marketiger', 10), { numRuns: RUNS });
  }, 60_000);

  it('Mrkter keeps one refresh in flight, never resends a rotated token, sends nothing after logout, leaks nothing', async () => {
    await fc.assert(sessionModelProperty('mrkter', 10), { numRuns: RUNS });
  }, 60_000);
});
