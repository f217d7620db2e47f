/** The faults a simulator server injects, per route, and the order in which requests take them. */
import type { RouteKey } from './simServer.js';

/**
 * A fault a simulator injects on a route instead of (or before) its normal answer.
 * `times` limits how many requests it applies to (default: every one until cleared);
 * `probability` applies it to that share of requests (default 1), drawn from the simulator's `random`.
 */
export type SimFault = (
  | { kind: 'latency'; ms: number }
  | { kind: 'status'; status: number; body?: string; contentType?: string; headers?: Record<string, string> }
  | { kind: 'drop' }
  | { kind: 'hang' }
  | { kind: 'malformed'; body: string; status?: number; contentType?: string }
  | { kind: 'rateLimit'; retryAfter?: string }
  | { kind: 'trickle'; intervalMs: number; status?: number; body?: string }
) & { times?: number; probability?: number };

/** The faults of one server: added per route, taken per request, cleared. */
export interface FaultQueue {
  /** Adds a fault to a route (faults apply in the order added). */
  add(route: RouteKey, fault: SimFault): void;
  /**
   * The faults that apply to this request, taken lazily: a fault is spent only when reached, so a
   * fault that answers (drop, status, ...) leaves the ones queued behind it for the next requests.
   */
  take(route: RouteKey): Generator<SimFault>;
  /** Removes the faults of one route, or of all. */
  clear(route?: RouteKey): void;
}

/** A fault queue holding `initial`, drawing probabilities from `random`. */
export function createFaultQueue(
  initial: Record<RouteKey, SimFault | SimFault[]>,
  random: () => number,
): FaultQueue {
  const faults = new Map<RouteKey, (SimFault & { used: number })[]>();
  const add = (route: RouteKey, fault: SimFault) => {
    const list = faults.get(route) ?? [];
    list.push({ ...fault, used: 0 });
    faults.set(route, list);
  };
  for (const [route, f] of Object.entries(initial)) {
    for (const fault of Array.isArray(f) ? f : [f]) add(route, fault);
  }
  return {
    add,
    *take(route) {
      const list = faults.get(route);
      if (!list) return;
      for (const fault of list) {
        if (fault.times !== undefined && fault.used >= fault.times) continue;
        if (fault.probability !== undefined && random() >= fault.probability) continue;
        fault.used++;
        yield fault;
      }
    },
    clear(route) {
      if (route) faults.delete(route);
      else faults.clear();
    },
  };
}
