// A CommonJS JavaScript consumer of the packed tarball, type-checked with `moduleResolution: node10`
// (checkJs): the Marketiger flow against the simulator, and AuthError identity across the three entries.
const assert = require('node:assert/strict');
const {
  AuthError,
  createAuthorizedAxios,
  createMarketigerApi,
  createUnrefClock,
  marketigerActors,
  marketigerMachine,
} = require('authcharts');
const { createRedisCoordinator } = require('authcharts/redis');
const { MARKETIGER_DEMO_USER, sampleError, startMarketigerSimulator } = require('authcharts/testing');
const { Redis } = require('ioredis');
const { createActor, waitFor } = require('xstate');

async function main() {
  const sim = await startMarketigerSimulator();
  try {
    const api = createMarketigerApi({ baseURL: sim.baseURL });
    const actor = createActor(marketigerMachine.provide({ actors: marketigerActors(api) }), {
      clock: createUnrefClock(),
    }).start();
    actor.send({
      type: 'auth.login',
      email: MARKETIGER_DEMO_USER.email,
      password: MARKETIGER_DEMO_USER.password,
    });
    await waitFor(actor, (s) => s.matches('signedIn'), { timeout: 5_000 });
    const http = createAuthorizedAxios(actor, { baseURL: sim.baseURL });
    const projects = await http.get('/Project/GetProjects');
    assert.equal(projects.status, 200);
    actor.stop();
  } finally {
    await sim.close();
  }

  assert.ok(sampleError('server') instanceof AuthError, 'authcharts/testing makes the root AuthError');
  const redis = new Redis({
    port: 1,
    lazyConnect: true,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  const storeError = await createRedisCoordinator({ redis })
    .read('consumer')
    .then(
      () => undefined,
      (/** @type {unknown} */ error) => error,
    );
  redis.disconnect();
  assert.ok(storeError instanceof AuthError, 'authcharts/redis makes the root AuthError');
  assert.equal(AuthError.name, 'AuthError');
  console.log('cjs consumer: signed in; AuthError is one class across entries');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
