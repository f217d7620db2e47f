/**
 * Virtual time for the path engine and the coverage replay, and the one place that answers
 * `Date.now()` with it.
 *
 * The statecharts read the wall clock themselves: their guards (`isRefreshTokenExpired`, the resend
 * cooldown), their token-planning assignments and their delays call `Date.now()`. XState offers no
 * way to pass a time into a transition (its `SimulatedClock` drives the timers of a running actor,
 * not what a guard reads), so computing a transition "at" a virtual time, with the machines as they
 * are, means `Date.now()` answering that time for the length of one synchronous XState call. That
 * is all {@link atVirtualTime} does: it is not part of `authcharts/testing` (the package's `exports`
 * reach no module but the entry), and the engine calls it around pure computations only (XState's
 * `transition`, `initialTransition`, a delay implementation, `getTransitionData`), which run no
 * callback of anyone else's. Were the machines given a clock, this module would go.
 */

/**
 * Runs `fn` with `Date.now()` answering `at`, synchronously, and restores it before returning (or
 * throwing): nothing outside `fn` can observe the virtual time.
 */
export function atVirtualTime<T>(at: number, fn: () => T): T {
  const realNow = Date.now;
  Date.now = () => at;
  try {
    return fn();
  } finally {
    Date.now = realNow;
  }
}
