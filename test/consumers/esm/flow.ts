/**
 * An ESM consumer of the packed tarball, compiled twice (tsconfig.nodenext.json, tsconfig.bundler.json):
 * both providers' flows against the simulators over loopback, the documented `axios` option with the
 * app's own axios, and `AuthError` identity across the three entries.
 */
import assert from 'node:assert/strict';
import {
  AuthError,
  createAuthorizedAxios,
  createMarketigerApi,
  createMrkterApi,
  createUnrefClock,
  isAuthError,
  marketigerActors,
  marketigerMachine,
  mrkterActors,
  mrkterMachine,
} from 'authcharts';
import { createRedisCoordinator } from 'authcharts/redis';
import {
  defaultMrkterUsers,
  MARKETIGER_DEMO_USER,
  sampleError,
  startMarketigerSimulator,
  startMrkterSimulator,
} from 'authcharts/testing';
import axios from 'axios';
import { Redis } from 'ioredis';
import { createActor, waitFor } from 'xstate';

const WAIT = { timeout: 5_000 };

// The machines start without input or provided actors (types and runtime).
createActor(marketigerMachine);
createActor(mrkterMachine);

const marketiger = await startMarketigerSimulator();
try {
  const api = createMarketigerApi({ baseURL: marketiger.baseURL, axios: axios.create() });
  const actor = createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), {
    clock: createUnrefClock(),
  }).start();
  actor.send({ type: 'auth.login', email: MARKETIGER_DEMO_USER.email, password: 'wrong' });
  const refused = await waitFor(actor, (s) => s.matches('signedOut') && s.context.error !== null, WAIT);
  assert.equal(refused.context.error?.kind, 'invalid_credentials');

  actor.send({
    type: 'auth.login',
    email: MARKETIGER_DEMO_USER.email,
    password: MARKETIGER_DEMO_USER.password,
  });
  await waitFor(actor, (s) => s.matches('signedIn'), WAIT);
  const http = createAuthorizedAxios(actor, { baseURL: marketiger.baseURL });
  const projects = await http.get('/Project/GetProjects');
  assert.equal(projects.status, 200);
  actor.stop();
} finally {
  await marketiger.close();
}

const mrkter = await startMrkterSimulator();
try {
  const user = defaultMrkterUsers[0];
  assert.ok(user);
  const api = createMrkterApi({ authBaseURL: mrkter.authUrl, apiBaseURL: mrkter.apiUrl });
  const actor = createActor(mrkterMachine.provide({ actors: mrkterActors(api) }), {
    clock: createUnrefClock(),
  }).start();
  actor.send({ type: 'auth.login', username: user.username, password: user.password });
  const selecting = await waitFor(actor, (s) => s.matches('selectingIdentity'), WAIT);
  const identity = selecting.context.identities.find((i) => i.verifiedPhoneNumber);
  assert.ok(identity);
  actor.send({ type: 'identity.select', accountId: identity.accountId });
  const awaiting = await waitFor(actor, (s) => s.matches('awaitingCode'), WAIT);
  actor.send({ type: 'code.submit', code: mrkter.lastCode(awaiting.context.phoneNumber ?? undefined) ?? '' });
  await waitFor(actor, (s) => s.matches('signedIn'), WAIT);
  const http = createAuthorizedAxios(actor, { baseURL: mrkter.apiUrl });
  const account = await http.get('/accounts/current');
  assert.equal(account.status, 200);
  actor.stop();
} finally {
  await mrkter.close();
}

// One AuthError class: errors made in authcharts/testing and authcharts/redis are the root's.
assert.ok(sampleError('server') instanceof AuthError);
const redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
const coordinator = createRedisCoordinator({ redis });
const storeError = await coordinator.read('consumer').then(
  () => undefined,
  (error: unknown) => error,
);
redis.disconnect();
assert.ok(storeError instanceof AuthError && isAuthError(storeError) && storeError.kind === 'network');

console.log('esm consumer: both flows signed in; AuthError is one class across entries');
