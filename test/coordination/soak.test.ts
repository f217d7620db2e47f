/**
 * The coordination soak, short: 10 holder processes, half a minute of faults (Redis restarted with and
 * without its data, refusing writes, emptied, its connections killed) at random moments, 4 s access
 * tokens. The long run is `npm run soak:coordination` (10 minutes); both are
 * test/coordination/fixtures/soak.ts.
 */
import { expect, it } from 'vitest';
import { runCoordinationSoak, soakFailures, soakReport } from './fixtures/soak.js';

it('10 processes through half a minute of Redis faults end on the same newest session: no session_expired, no redeemed token resent, no unhandled error', async () => {
  // Act
  const figures = await runCoordinationSoak({ processes: 10, durationMs: 25_000, meanFaultGapMs: 1_500 });

  // Assert
  console.log(soakReport(figures));
  expect(soakFailures(figures)).toEqual([]);
  expect(figures.refreshes).toBeGreaterThan(5);
  expect(Object.values(figures.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(4);
}, 150_000);
