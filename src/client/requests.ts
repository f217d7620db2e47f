/**
 * What the client knows about one attempt of a request: its whole-exchange deadline, the token it
 * carried, when it went out, and whether it is the one retry after a 401.
 *
 * All of it lives in one object per attempt, which is also the attempt's abort signal
 * (`config.signal`): axios hands the same config to the response interceptors, and copies `signal`
 * by reference when the client sends a request again, so no map or id is needed to find it. The token
 * is a private field: `JSON.stringify(error)` and `util.inspect(error)` read a config's signal, and
 * must not find a credential there.
 */
import type { InternalAxiosRequestConfig } from 'axios';
import { type CallerSignal, Deadline } from '../time.js';

export class Attempt extends Deadline {
  /** When the attempt went out (epoch ms) and its debug log id: set only when there is a logger. */
  startedAt = 0;
  logId = 0;
  /** True for the one retry after a 401. */
  readonly retried: boolean;
  #token: string | null = null;
  #resending = false;

  /**
   * Starts the attempt's deadline of `ms` (none for `null`), following the caller's own signal, which
   * stays the same across the attempts of one request.
   */
  constructor(ms: number | null, caller: CallerSignal | null | undefined, retried: boolean) {
    super(ms, caller);
    this.retried = retried;
  }

  /** The access token this attempt carried, or `null` when it carried no credentials. */
  carried(): string | null {
    return this.#token;
  }

  carry(token: string | null): void {
    this.#token = token;
  }

  /** Marks the attempt as refused with its token: the client sends its request again, once. */
  resend(): void {
    this.#resending = true;
  }

  /** True when the request of this attempt is the client's own retry (not a config a caller sent again). */
  isResent(): boolean {
    return this.#resending;
  }
}

/** The attempt a request config belongs to: its signal, when the client set one. */
export function attemptOf(request: InternalAxiosRequestConfig | undefined): Attempt | undefined {
  const signal = request?.signal;
  return signal instanceof Attempt ? signal : undefined;
}

/**
 * Starts the next attempt of `request` and makes it the config's signal. The whole exchange is bounded
 * by the request's `timeout` (axios's own `timeout` is an idle timer in Node: a server that sends
 * headers and then trickles the body never trips it, N7); the attempt aborts when it runs out or when
 * the caller's own signal aborts.
 */
export function startAttempt(request: InternalAxiosRequestConfig): Attempt {
  const previous = attemptOf(request);
  // A config the caller sent again (say `error.config`) still holds an old attempt: keep its caller.
  const caller = previous ? previous.caller : request.signal;
  const ms = request.timeout;
  const limit = ms && Number.isFinite(ms) && ms > 0 ? ms : null;
  const attempt = new Attempt(limit, caller, previous?.isResent() ?? false);
  request.signal = attempt;
  return attempt;
}
