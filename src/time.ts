/** Time helpers shared by the machines, the HTTP core and the clock: pure, no I/O. */

/** Largest delay a JavaScript timer honours; Node fires longer ones after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay a timer honours: NaN and negatives become 0, anything above 2^31-1 ms is capped. */
export function clampDelay(ms: number): number {
  if (Number.isNaN(ms)) return 0;
  return Math.min(Math.max(ms, 0), MAX_TIMER_MS);
}

/** Ms from now until the epoch-ms time `at` (0 when `at` is null or past), clamped for a timer. */
export function delayUntil(at: number | null, now = Date.now()): number {
  return at === null ? 0 : clampDelay(at - now);
}
