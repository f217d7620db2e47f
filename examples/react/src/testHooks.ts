/**
 * The page's one test-only hook, and the name of a state as the page writes it in `data-state`.
 *
 * A test that drives this page may define `window.__authchartsExample` before the page's scripts run
 * (Playwright: `context.addInitScript`). The page then hands its `inspect` observer to every actor it
 * creates (`useMachine(machine, { inspect })`), which is how `npm run test:ui-paths` computes which
 * states and transitions the page actually took. Time needs no hook: the suite drives the page's
 * clock with Playwright's (`page.clock`), which fakes `Date` and `setTimeout` for the whole page.
 * On a normal load the global is absent and nothing changes.
 */
import type { InspectionEvent, StateValue } from 'xstate';

export interface ExampleTestHooks {
  /** Passed as the `inspect` option of every actor this page creates. */
  inspect?: (event: InspectionEvent) => void;
}

declare global {
  interface Window {
    __authchartsExample?: ExampleTestHooks;
  }
}

/** The actor options the test hook asks for: `{ inspect }`, or nothing. */
export function testActorOptions(): { inspect?: (event: InspectionEvent) => void } {
  const inspect = typeof window === 'undefined' ? undefined : window.__authchartsExample?.inspect;
  return inspect ? { inspect } : {};
}

/**
 * A state value as one string: `signedOut`, `signedIn.active`, `awaitingCode.resendReady` (parallel
 * regions, which these machines do not have, would be joined with a comma). Written on each flow's
 * root as `data-state`, for tests and styles.
 */
export function stateName(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([key, child]) => (child === undefined ? key : `${key}.${stateName(child as StateValue)}`))
    .join(',');
}
