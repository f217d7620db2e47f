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

/** Lets a timer not keep a Node process alive (browsers have no `unref`), and returns it. */
export function unrefTimer<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** The part of an `AbortSignal` a deadline listens to (axios's `GenericAbortSignal` fits too). */
interface CallerSignal {
  readonly aborted: boolean;
  addEventListener?: (type: 'abort', listener: () => void) => void;
  removeEventListener?: (type: 'abort', listener: () => void) => void;
}

/** An abort signal for one exchange: aborted when `ms` have passed or when the caller's signal aborts. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** True once the time ran out (not the caller's abort). */
  readonly timedOut: boolean;
  /** Stops the timer and lets go of the caller's signal; call it however the exchange ended. */
  disarm(): void;
}

/**
 * One timer over a whole exchange, headers and body alike. axios's own `timeout` is an idle timer in
 * Node, which a body that trickles in never trips (reliability case N7). The timer is `unref`'d so a
 * pending request alone does not keep a script alive past its own end.
 */
export function startDeadline(ms: number, caller?: CallerSignal | null): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const onCallerAbort = () => controller.abort();
  if (caller?.aborted) controller.abort();
  else caller?.addEventListener?.('abort', onCallerAbort);
  const timer = unrefTimer(
    setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, clampDelay(ms)),
  );
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    disarm() {
      clearTimeout(timer);
      caller?.removeEventListener?.('abort', onCallerAbort);
    },
  };
}
