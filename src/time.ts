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
export interface CallerSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener?: (type: 'abort', listener: () => void) => void;
  removeEventListener?: (type: 'abort', listener: () => void) => void;
}

/** What an abort listener of a {@link Deadline} is called with: an event of type `abort`, as `AbortSignal` does. */
export interface AbortEventLike {
  readonly type: 'abort';
  readonly target: Deadline;
}

type AbortListener = (this: Deadline, event: AbortEventLike) => void;

/** Fires a deadline whose time ran out (a function of its own, so arming a timer makes no closure). */
function expire(deadline: Deadline): void {
  deadline.abort(true);
}

/**
 * One timer over a whole exchange, headers and body alike, and the abort signal that carries it:
 * aborted when `ms` have passed or when the caller's own signal aborts. axios's own `timeout` is an
 * idle timer in Node, which a body that trickles in never trips (reliability case N7). The timer is
 * `unref`'d so a pending request alone does not keep a script alive past its own end.
 *
 * The deadline is itself the exchange's abort signal, shaped like `AbortSignal` as far as axios reads
 * one (its `GenericAbortSignal`: `aborted`, `reason`, `onabort`, `addEventListener`,
 * `removeEventListener`; axios's fetch adapter wraps it in an `AbortController` of its own). A real
 * `AbortController` per request cost more than the rest of the authorized client together (about
 * 2 µs each: an `EventTarget`, and axios's listener on it); this is a plain object whose listener list
 * is the adapter's one function.
 */
export class Deadline {
  aborted = false;
  /** True once the time ran out (not the caller's abort). */
  timedOut = false;
  reason: unknown;
  onabort: ((event: AbortEventLike) => void) | null = null;
  /** The caller's own signal, if one was given. */
  readonly caller: CallerSignal | null | undefined;
  #listeners: AbortListener[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onCallerAbort: (() => void) | undefined;

  /**
   * Starts the timer (`ms` clamped for a timer; `null`: no time limit, only the caller's signal), and
   * aborts at once when the caller's signal already has.
   */
  constructor(ms: number | null, caller?: CallerSignal | null) {
    this.caller = caller;
    if (caller?.aborted) {
      this.abort(false);
      return;
    }
    if (caller?.addEventListener) {
      this.#onCallerAbort = () => this.abort(false);
      caller.addEventListener('abort', this.#onCallerAbort);
    }
    if (ms !== null) this.#timer = unrefTimer(setTimeout(expire, clampDelay(ms), this));
  }

  /** Stops the timer and lets go of the caller's signal; call it however the exchange ended. */
  disarm(): void {
    clearTimeout(this.#timer);
    if (this.#onCallerAbort) this.caller?.removeEventListener?.('abort', this.#onCallerAbort);
    this.#onCallerAbort = undefined;
  }

  /** Aborts the exchange now, `timedOut` when the time ran out; each listener hears it once. */
  abort(timedOut: boolean): void {
    if (this.aborted) return;
    this.disarm();
    this.timedOut = timedOut;
    this.aborted = true;
    this.reason = timedOut
      ? new DOMException('The operation timed out.', 'TimeoutError')
      : (this.caller?.reason ?? new DOMException('This operation was aborted', 'AbortError'));
    const event: AbortEventLike = { type: 'abort', target: this };
    this.onabort?.(event);
    for (const listener of this.#listeners.splice(0)) listener.call(this, event);
  }

  addEventListener(type: string, listener: AbortListener): void {
    if (type === 'abort' && !this.#listeners.includes(listener)) this.#listeners.push(listener);
  }

  removeEventListener(type: string, listener: AbortListener): void {
    const at = type === 'abort' ? this.#listeners.indexOf(listener) : -1;
    if (at >= 0) this.#listeners.splice(at, 1);
  }
}

/** Starts a {@link Deadline} of `ms` over one exchange, following the caller's own signal if one is given. */
export function startDeadline(ms: number, caller?: CallerSignal | null): Deadline {
  return new Deadline(ms, caller);
}
