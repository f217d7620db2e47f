/**
 * The CLI's sign-in actors: each provider's machine on its real services, on a clock whose timers do
 * not keep the process alive, traced when asked.
 */
import { createActor, type InspectionEvent } from 'xstate';
import { createUnrefClock } from '../clock.js';
import type { CoordinationOptions } from '../coordination/types.js';
import {
  createMarketigerApi,
  createMrkterApi,
  type MarketigerApiOptions,
  type MarketigerInput,
  type MrkterApiOptions,
  type MrkterInput,
  marketigerActors,
  marketigerMachine,
  mrkterActors,
  mrkterMachine,
} from '../index.js';

type Inspect = ((event: InspectionEvent) => void) | undefined;

/**
 * A Marketiger actor (not started) and its service; with `coordination`, its refreshes take the
 * shared lock and write the rotated tokens back (the stored session of `authcharts api`).
 */
export function marketigerSession(
  apiOptions: MarketigerApiOptions,
  input: MarketigerInput,
  inspect?: Inspect,
  coordination?: CoordinationOptions,
) {
  const api = createMarketigerApi(apiOptions);
  const actors = coordination ? marketigerActors(api, coordination) : marketigerActors(api);
  const actor = createActor(marketigerMachine.provide({ actors }), {
    input,
    clock: createUnrefClock(),
    ...(inspect ? { inspect } : {}),
  });
  return { api, actor };
}

/** A Mrkter actor (not started) and its service; `coordination` as for {@link marketigerSession}. */
export function mrkterSession(
  apiOptions: MrkterApiOptions,
  input: MrkterInput,
  inspect?: Inspect,
  coordination?: CoordinationOptions,
) {
  const api = createMrkterApi(apiOptions);
  const actors = coordination ? mrkterActors(api, coordination) : mrkterActors(api);
  const actor = createActor(mrkterMachine.provide({ actors }), {
    input,
    clock: createUnrefClock(),
    ...(inspect ? { inspect } : {}),
  });
  return { api, actor };
}
