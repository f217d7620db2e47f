import { createMarketigerApi, marketigerActors, marketigerMachine } from 'authcharts';

/** A Marketiger-only app: the built page must carry nothing of Mrkter (the runner reads the bundle). */
export function signInMachine(baseURL: string) {
  return marketigerMachine.provide({ actors: marketigerActors(createMarketigerApi({ baseURL })) });
}
