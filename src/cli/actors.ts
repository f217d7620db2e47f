/**
 * The CLI's sign-in actors: each provider's machine on its real services, on a clock whose timers do
 * not keep the process alive, traced when asked.
 */
import { createActor, type InspectionEvent } from 'xstate';
import { createUnrefClock } from '../clock.js';
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

/** A Marketiger actor (not started) and its service. */
export function marketigerSession(
  apiOptions: MarketigerApiOptions,
  input: MarketigerInput,
  inspect?: Inspect,
) {
  const api = createMarketigerApi(apiOptions);
  const actor = createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), {
    input,
    clock: createUnrefClock(),
    ...(inspect ? { inspect } : {}),
  });
  return { api, actor };
}

/** A Mrkter actor (not started) and its service. */
export function mrkterSession(apiOptions: MrkterApiOptions, input: MrkterInput, inspect?: Inspect) {
  const api = createMrkterApi(apiOptions);
  const actor = createActor(mrkterMachine.provide({ actors: mrkterActors(api) }), {
    input,
    clock: createUnrefClock(),
    ...(inspect ? { inspect } : {}),
  });
  return { api, actor };
}
