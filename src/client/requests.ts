/**
 * What the client remembers about each request across its attempts (the token it carried, whether it
 * was retried, its timer), and the whole-exchange timeout of each attempt.
 *
 * Per-request bookkeeping lives in a map, keyed by an opaque id on the config. The config only holds
 * the id: axios copies a config's own string keys when a request is sent again (so the id survives
 * the retry), and anything on the config shows up in `JSON.stringify(error)`: the token must not.
 */
import type { GenericAbortSignal, InternalAxiosRequestConfig } from 'axios';
import { type Deadline, startDeadline } from '../time.js';

const requestId = '__authchartsRequest';

/** An axios request config with the client's opaque request id. */
export type TrackedConfig = InternalAxiosRequestConfig & { [requestId]?: number };

export interface RequestState {
  /** The access token this attempt carried, if credentials were attached. */
  token: string | null;
  retried: boolean;
  /** When the current attempt went out, and its debug log id. */
  startedAt: number;
  logId: number;
  /** The caller's own signal, kept across the retry: each attempt's config carries a signal of ours. */
  callerSignal?: GenericAbortSignal | null;
  /** The current attempt's whole-exchange timeout, when it has one. */
  deadline?: Deadline | undefined;
}

/** The requests of one client in flight. */
export function createRequestTracker() {
  const states = new Map<number, RequestState>();
  let nextId = 0;
  return {
    /** The state of a request, made on its first attempt. */
    stateOf(request: TrackedConfig): RequestState {
      let id = request[requestId];
      if (id === undefined) {
        id = ++nextId;
        request[requestId] = id;
      }
      let tracked = states.get(id);
      if (!tracked) {
        tracked = { token: null, retried: false, startedAt: Date.now(), logId: 0 };
        states.set(id, tracked);
      }
      return tracked;
    },
    /** The state of a request, if the client tracks it. */
    find(request: TrackedConfig | undefined): RequestState | undefined {
      const id = request?.[requestId];
      return id === undefined ? undefined : states.get(id);
    },
    /** Lets go of a request that ended. */
    forget(request: TrackedConfig | undefined): void {
      const id = request?.[requestId];
      if (id !== undefined) states.delete(id);
    },
  };
}

/**
 * Bounds the whole exchange of one attempt by the request's `timeout`. Axios's own `timeout` is an idle
 * timer in Node: a server that sends headers and then trickles the body never trips it (N7). The
 * attempt gets a signal of ours, aborted by the timer or by the caller's own signal.
 */
export function armTimeout(request: TrackedConfig, tracked: RequestState): void {
  tracked.deadline?.disarm();
  tracked.deadline = undefined;
  const ms = request.timeout;
  if (!ms || !Number.isFinite(ms) || ms <= 0) return;
  tracked.deadline = startDeadline(ms, tracked.callerSignal);
  request.signal = tracked.deadline.signal;
}
