/** Built by Vite for Node (`vite build --ssr src/flow.ts`) and run: the app's machine signs in. */
import assert from 'node:assert/strict';
import { createAuthorizedAxios } from 'authcharts';
import { MARKETIGER_DEMO_USER, startMarketigerSimulator } from 'authcharts/testing';
import { createActor, waitFor } from 'xstate';
import { signInMachine } from './signIn.js';

const sim = await startMarketigerSimulator();
try {
  const actor = createActor(signInMachine(sim.baseURL)).start();
  actor.send({
    type: 'auth.login',
    email: MARKETIGER_DEMO_USER.email,
    password: MARKETIGER_DEMO_USER.password,
  });
  await waitFor(actor, (s) => s.matches('signedIn'), { timeout: 5_000 });
  const projects = await createAuthorizedAxios(actor, { baseURL: sim.baseURL }).get('/Project/GetProjects');
  assert.equal(projects.status, 200);
  actor.stop();
  console.log('vite consumer: the app machine, built by Vite, signed in');
} finally {
  await sim.close();
}
