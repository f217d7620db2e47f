/**
 * Restoring a session actor from a persisted snapshot.
 *
 * XState restores state and context but neither persists nor re-arms pending `after` timers. Both
 * machines answer `auth.resume` by re-entering the timed state, with delays computed from the
 * absolute times in context, and send it to themselves on every start through their root actor
 * `resumeTimers`, so plain `createActor(machine, { snapshot })` re-arms them already. This helper
 * adds a check of the snapshot: one that does not fit the machine (corrupt, foreign, another
 * version) never throws, the actor starts signed out with a typed error. It also sends `auth.resume`
 * itself, for snapshots persisted before `resumeTimers` existed (a second one changes nothing).
 */
import { type Actor, type ActorOptions, type AnyStateMachine, createActor } from 'xstate';
import { AuthError } from './errors.js';

/**
 * Creates, starts and resumes an actor from a snapshot saved with `actor.getPersistedSnapshot()`.
 *
 * @example
 * ```ts
 * localStorage.setItem('session', JSON.stringify(actor.getPersistedSnapshot()));
 * // … after a reload:
 * const saved = JSON.parse(localStorage.getItem('session') ?? 'null');
 * const actor = restoreActor(marketigerMachine.provide({ actors: marketigerActors(api) }), saved);
 * ```
 */
export function restoreActor<TLogic extends AnyStateMachine>(
  logic: TLogic,
  persisted: unknown,
  options: Omit<ActorOptions<TLogic>, 'snapshot'> = {},
): Actor<TLogic> {
  if (persisted != null && fitsMachine(logic, persisted)) {
    try {
      const actor = createActor(logic, { ...options, snapshot: persisted } as ActorOptions<TLogic>);
      actor.start();
      actor.send({ type: 'auth.resume' } as never);
      return actor;
    } catch {
      // fall through to a fresh, signed-out actor
    }
  }
  const fresh = createActor(logic, options as ActorOptions<TLogic>);
  const initial = fresh.getSnapshot() as { value: unknown; context: Record<string, unknown> };
  const error =
    persisted == null
      ? null
      : new AuthError('signed_out', {
          message: 'The saved session could not be restored. Sign in again.',
        }).toData();
  const signedOut = logic.resolveState({
    value: initial.value as string,
    context: { ...initial.context, error },
  });
  const actor = createActor(logic, { ...options, snapshot: signedOut } as ActorOptions<TLogic>);
  actor.start();
  return actor;
}

/** A persisted snapshot fits when it is active, its state value exists in this machine and its context has every field. */
function fitsMachine(logic: AnyStateMachine, persisted: unknown): boolean {
  if (typeof persisted !== 'object') return false;
  const { status, value, context } = persisted as { status?: unknown; value?: unknown; context?: unknown };
  if (status !== 'active' || typeof context !== 'object' || context === null) return false;
  if (typeof value !== 'string' && (typeof value !== 'object' || value === null)) return false;
  try {
    const initial = createActor(logic).getSnapshot().context as Record<string, unknown>;
    for (const key of Object.keys(initial)) if (!(key in context)) return false;
    logic.resolveState({ value: value as string, context: context as Record<string, unknown> });
    return true;
  } catch {
    return false;
  }
}
