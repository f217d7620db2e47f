/**
 * docs/reliability.md, Protocol (P1–P14): token rotation, refusals, 401 storms and loops, clock skew and
 * the SMS step, driven through the real services, machines and authorized client over loopback.
 */
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { marketigerRoutes } from '../../src/testing/marketigerSimulator.js';
import { mrkterRoutes } from '../../src/testing/mrkterSimulator.js';
import {
  authErrorOf,
  currentAccountPath,
  demo,
  expectIdle,
  expectNoSecret,
  exposure,
  marketiger,
  marketigerActor,
  mrkter,
  mrkterActor,
  mrkterRefreshes,
  projectsPath,
  runCleanups,
  settle,
  signedInMarketiger,
  signedInMrkter,
  single,
  untilAnswered,
  untilRequests,
} from './helpers.js';

/** Far beyond any step of these tests: a session's own refresh timer is due later than this. */
const LATER = 30 * 60_000;

const { login: LOGIN, refreshToken: REFRESH, getProjects: PROJECTS } = marketigerRoutes;
const { token: TOKEN, currentAccount: CURRENT, authenticate: AUTHENTICATE, sms: SMS } = mrkterRoutes;
const json401 = {
  kind: 'status' as const,
  status: 401,
  body: '{"success":false,"error":{"type":"AUTHENTICATION","message":"Authentication failed"}}',
  contentType: 'application/json',
};

afterEach(async () => {
  vi.useRealTimers();
  await runCleanups();
});

describe('Protocol', () => {
  it('P1: after a refresh returns a rotated refresh token, only the new one is used', async () => {
    // arrange
    const { sim, actor } = await signedInMrkter();
    const first = actor.getSnapshot().context.refreshToken;

    // act
    actor.send({ type: 'auth.refresh' });
    await settle(actor, (s) => s.matches({ signedIn: 'active' }) && s.context.refreshToken !== first);
    const second = actor.getSnapshot().context.refreshToken;
    actor.send({ type: 'auth.refresh' });
    await settle(actor, (s) => s.matches({ signedIn: 'active' }) && s.context.refreshToken !== second);

    // assert
    expect(new Set([first, second, actor.getSnapshot().context.refreshToken]).size).toBe(3);
    expect(mrkterRefreshes(sim).map((r) => r.params['refresh_token'])).toEqual([first, second]);
  });

  it('P1: Marketiger refreshes keep working with the rotated token, and the spent one is refused', async () => {
    // arrange
    const { sim, api, actor } = await signedInMarketiger();
    const first = actor.getSnapshot().context.refreshToken!;

    // act
    for (let i = 1; i <= 2; i++) {
      actor.send({ type: 'auth.refresh' });
      await settle(actor, (s) => s.matches({ signedIn: 'active' }) && sim.refreshCount === i);
      await settle(actor, (s) => s.matches({ signedIn: 'active' }));
    }

    // assert
    expect(actor.getSnapshot().context.refreshToken).not.toBe(first);
    expect(actor.getSnapshot().matches({ signedIn: 'active' })).toBe(true);
    expect((await authErrorOf(api.refreshTokens({ refreshToken: first }))).kind).toBe('session_expired');
  });

  it('P2: a refused old refresh token (Marketiger 4xx, Auth0 403 invalid_grant) ends in sessionExpired with the tokens cleared, not retried', async () => {
    // arrange
    const { sim, actor } = await signedInMarketiger();
    const { sim: msim, actor: mactor } = await signedInMrkter();
    sim.revokeRefreshTokens();
    msim.revokeRefreshTokens();

    // act
    actor.send({ type: 'auth.refresh' });
    mactor.send({ type: 'auth.refresh' });
    const expired = await settle(actor, (s) => s.matches('sessionExpired'));
    const mexpired = await settle(mactor, (s) => s.matches('sessionExpired'));

    // assert: nothing in flight or scheduled could still send a refresh
    expectIdle(actor);
    expectIdle(mactor);
    for (const snapshot of [expired, mexpired]) {
      expect(snapshot.context.error?.kind).toBe('session_expired');
      expect(snapshot.context.accessToken).toBeNull();
      expect(snapshot.context.refreshToken).toBeNull();
    }
    expect(expired.context.error?.status).toBe(401);
    expect(mexpired.context.error?.status).toBe(403);
    expect(sim.refreshCount).toBe(1);
    expect(mrkterRefreshes(msim)).toHaveLength(1);
  });

  it('P3: N concurrent requests that all get 401 cause one refresh, and each is retried once', async () => {
    // arrange
    const { sim, http } = await signedInMarketiger();
    const { sim: msim, http: mhttp } = await signedInMrkter();
    sim.expireAccessTokens();
    msim.expireAccessTokens();

    // act
    const [marketigerResponses, mrkterResponses] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, () => http.get(projectsPath))),
      Promise.all(Array.from({ length: 20 }, () => mhttp.get(currentAccountPath))),
    ]);

    // assert
    expect(marketigerResponses.every((r) => r.status === 200)).toBe(true);
    expect(mrkterResponses.every((r) => r.status === 200)).toBe(true);
    expect(sim.refreshCount).toBe(1);
    expect(mrkterRefreshes(msim)).toHaveLength(1);
    expect(sim.requestCount(PROJECTS)).toBe(40);
    expect(msim.requestCount(CURRENT)).toBe(40);
    expect(sim.log.filter((e) => e.route === PROJECTS && e.status === 401)).toHaveLength(20);
  });

  it('P4: a refresh endpoint that answers 401 causes no recursive refresh and one terminal error', async () => {
    // arrange
    const { sim, actor, http } = await signedInMarketiger();
    sim.injectFault(REFRESH, json401);
    sim.expireAccessTokens();

    // act
    const first = await authErrorOf(http.get(projectsPath));
    const second = await authErrorOf(http.get(projectsPath));

    // assert
    expectIdle(actor);
    expect(first.kind).toBe('session_expired');
    expect(second.kind).toBe('session_expired');
    expect(actor.getSnapshot().matches('sessionExpired')).toBe(true);
    expect(sim.refreshCount).toBe(1);
    expect(sim.requestCount(PROJECTS)).toBe(1);
  });

  it('P5: a request still refused with 401 after a good refresh is retried once, then fails; no loop', async () => {
    // arrange
    const { sim, actor, http } = await signedInMarketiger();
    sim.injectFault(PROJECTS, json401);

    // act
    const error = await authErrorOf(http.get(projectsPath));

    // assert
    expectIdle(actor, { timersBeyondMs: LATER });
    expect(error).toMatchObject({ kind: 'session_expired', status: 401 });
    expect(sim.refreshCount).toBe(1);
    expect(sim.requestCount(PROJECTS)).toBe(2);
    expect(actor.getSnapshot().matches({ signedIn: 'active' })).toBe(true);
  });

  it('P6: a 403 NO_PERMISSION is no_permission, with no refresh and no sign-out', async () => {
    // arrange
    const { sim, actor, http } = await signedInMarketiger();
    const before = actor.getSnapshot().context;
    sim.injectFault(PROJECTS, {
      kind: 'status',
      status: 403,
      body: '{"success":false,"error":{"type":"NO_PERMISSION","message":"User has no permission for this project"}}',
      contentType: 'application/json',
      times: 1,
    });

    // act
    const error = await authErrorOf(http.get(projectsPath));

    // assert
    expectIdle(actor, { timersBeyondMs: LATER });
    expect(error).toMatchObject({ kind: 'no_permission', status: 403 });
    expect(sim.refreshCount).toBe(0);
    expect(actor.getSnapshot().matches({ signedIn: 'active' })).toBe(true);
    expect(actor.getSnapshot().context.accessToken).toBe(before.accessToken);
  });

  it('P7: Auth0 mfa_required is a typed error, and the mfa_token never reaches a message or the context', async () => {
    // arrange
    const mfaToken = 'canary-mfa-token-Pq7Zr';
    const { sim, api } = await mrkter({
      users: [{ ...single, mfaRequired: true }],
    });
    const subject = mrkterActor(api);

    // act: the simulator's own answer through the machine, then one carrying a known token
    subject.send({ type: 'auth.login', username: single.username, password: single.password });
    const out = await settle(subject, (s) => s.matches('signedOut') && s.context.error !== null);
    sim.injectFault(TOKEN, {
      kind: 'malformed',
      status: 403,
      body: JSON.stringify({
        error: 'mfa_required',
        error_description: `mfa ${mfaToken}`,
        mfa_token: mfaToken,
      }),
      times: 1,
    });
    const error = await authErrorOf(api.login({ username: single.username, password: single.password }));

    // assert
    expect(out.context.error).toMatchObject({ kind: 'no_permission', status: 403 });
    expect(out.context.accessToken).toBeNull();
    expect(error).toMatchObject({ kind: 'no_permission', status: 403, retryable: false });
    expectNoSecret(exposure(error), [mfaToken, single.password], 'the mfa_required error');
    expectNoSecret(JSON.stringify(subject.getPersistedSnapshot()), [single.password], 'the snapshot');
  });

  it('P8: a blocked user is refused on login and on refresh, typed and not retried', async () => {
    // arrange
    const { sim: blockedSim, api } = await mrkter();
    blockedSim.setUserBlocked(single.username, true);
    const subject = mrkterActor(api);
    const { sim, actor } = await signedInMrkter();
    sim.setUserBlocked(single.username, true);

    // act
    subject.send({ type: 'auth.login', username: single.username, password: single.password });
    const out = await settle(subject, (s) => s.matches('signedOut') && s.context.error !== null);
    actor.send({ type: 'auth.refresh' });
    const expired = await settle(actor, (s) => s.matches('sessionExpired'));

    // assert: neither actor has anything in flight or scheduled that could send again
    expectIdle(subject);
    expectIdle(actor);
    expect(out.context.error).toMatchObject({ kind: 'no_permission', status: 401 });
    expect(blockedSim.requestCount(TOKEN)).toBe(1);
    expect(expired.context.error).toMatchObject({ kind: 'session_expired', status: 401 });
    expect(mrkterRefreshes(sim)).toHaveLength(1);
    expect(actor.getSnapshot().matches('sessionExpired')).toBe(true);
  });

  it('P9: a token that expires while a request is in flight causes one refresh and one retry', async () => {
    // arrange
    const { sim, http } = await signedInMarketiger();
    sim.injectFault(PROJECTS, { kind: 'latency', ms: 200, times: 1 });

    // act
    const pending = http.get(projectsPath);
    // the request reached the server, which holds it 200 ms before it checks the token
    await untilRequests(sim, PROJECTS, 1);
    sim.expireAccessTokens();
    const response = await pending;

    // assert
    expect(response.status).toBe(200);
    expect(sim.refreshCount).toBe(1);
    expect(sim.requestCount(PROJECTS)).toBe(2);
  });

  it('P10: a local clock 5 minutes off the server Date causes no refresh loop and at most one 401', async () => {
    for (const offset of [5 * 60_000, -5 * 60_000]) {
      // arrange: tokens that live 4 minutes on the server's clock (so an uncorrected skew of 5 minutes
      // would make every token look expired on arrival, or live 5 minutes too long)
      const { sim, actor, http } = await signedInMarketiger({
        sim: { now: () => Date.now() + offset, accessTokenTtlMs: 4 * 60_000 },
      });

      // act: with the skew corrected, no refresh is under way or due soon (an uncorrected skew would
      // make the token look expired, or nearly so, and the machine refresh at once)
      expectIdle(actor, { timersBeyondMs: 60_000 });
      const responses = await Promise.all(Array.from({ length: 5 }, () => http.get(projectsPath)));

      // assert
      const { clockSkewMs, accessTokenExpiresAt } = actor.getSnapshot().context;
      expect(Math.abs(clockSkewMs - offset), String(offset)).toBeLessThan(2_000);
      expect(Math.abs(accessTokenExpiresAt! - Date.now() - 4 * 60_000), String(offset)).toBeLessThan(3_000);
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect(sim.refreshCount, String(offset)).toBe(0);
      expect(sim.log.filter((e) => e.status === 401).length).toBeLessThanOrEqual(1);
      expect(actor.getSnapshot().matches({ signedIn: 'active' })).toBe(true);
    }
  });

  it('P11: a refresh whose answer was lost after the server rotated ends in a typed outcome, in bounded time', async () => {
    // arrange: the server takes 400 ms, the client gives up after 200 ms; the rotation happens anyway
    const { sim, actor } = await signedInMarketiger({ api: { timeoutMs: 200 } });
    sim.injectFault(REFRESH, { kind: 'latency', ms: 400, times: 1 });

    // act
    actor.send({ type: 'auth.refresh' });
    const backingOff = await settle(actor, (s) => s.matches({ signedIn: 'backingOff' }));
    // the server has now spent the old refresh token and issued one nobody received
    await untilAnswered(sim, REFRESH, 200);
    actor.send({ type: 'auth.refresh' });
    const expired = await settle(actor, (s) => s.matches('sessionExpired'));

    // assert: the retry (the only way to learn the outcome) is refused, and the session ends typed.
    // Note: the catalogue's "never two refreshes with one token" is read as never two *at once*; a retry
    // after a timeout resends the token by design (the README: a network failure during a refresh is retried with backoff).
    expect(backingOff.context.error?.kind).toBe('timeout');
    expect(expired.context.error?.kind).toBe('session_expired');
    expect(sim.refreshCount).toBe(2);
  });

  it('P11: while a refresh is in flight, nothing starts a second one with the same token', async () => {
    // arrange
    const { sim, actor, http } = await signedInMrkter();
    const token = actor.getSnapshot().context.accessToken!;
    sim.injectFault(TOKEN, { kind: 'latency', ms: 300, times: 1 });
    sim.expireAccessTokens();

    // act: a refresh, then every other way of asking for one while it runs
    actor.send({ type: 'auth.refresh' });
    actor.send({ type: 'auth.refresh' });
    actor.send({ type: 'auth.tokenRejected', accessToken: token });
    actor.send({ type: 'auth.resume' });
    const responses = await Promise.all(Array.from({ length: 5 }, () => http.get(currentAccountPath)));

    // assert
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const sent = mrkterRefreshes(sim).map((r) => r.params['refresh_token']);
    expect(sent).toHaveLength(1);
    expect(new Set(sent).size).toBe(sent.length);
  });

  it('P12: two logins at once, or a login during a refresh, are serialised and never mix two sessions', async () => {
    // arrange
    const other = { email: 'other@marketiger.test', password: 'other-password' };
    const { sim, api } = await marketiger({ users: [{ ...demo }, { ...other }] });
    sim.injectFault(LOGIN, { kind: 'latency', ms: 150, times: 1 });
    sim.injectFault(REFRESH, { kind: 'latency', ms: 150, times: 1 });
    const subject = marketigerActor(api);
    const emailOf = () => decodeJwt(subject.getSnapshot().context.accessToken!)['email'];

    // act: two logins at once
    subject.send({ type: 'auth.login', ...demo });
    subject.send({ type: 'auth.login', ...other });
    await settle(subject, (s) => s.matches({ signedIn: 'active' }));
    const afterLogins = emailOf();
    // and a login during a refresh
    subject.send({ type: 'auth.refresh' });
    subject.send({ type: 'auth.login', ...other });
    await settle(subject, (s) => s.matches({ signedIn: 'active' }) && sim.refreshCount === 1);
    await settle(subject, (s) => s.matches({ signedIn: 'active' }));

    // assert
    expect(afterLogins).toBe(demo.email);
    expect(emailOf()).toBe(demo.email);
    expect(sim.requestCount(LOGIN)).toBe(1);

    // and with Mrkter: one password grant for two logins sent together
    const { sim: msim, api: mapi } = await mrkter();
    const mrkterSubject = mrkterActor(mapi);
    mrkterSubject.send({ type: 'auth.login', username: single.username, password: single.password });
    mrkterSubject.send({ type: 'auth.login', username: 'demo@mrkter.test', password: 'demo-password' });
    await settle(mrkterSubject, (s) => s.matches('awaitingCode'));
    expect(msim.requestCount(TOKEN)).toBe(1);
    expect(mrkterSubject.getSnapshot().context.accountId).toBe(single.identities[0]!.accountId);
  });

  it('P13: a refresh token past its lifetime ends the session without calling the server', async () => {
    // arrange: a refresh token that lives 300 ms
    const { sim, actor } = await signedInMarketiger({ input: { refreshTokenTtlMs: 300 } });

    // act
    const expired = await settle(actor, (s) => s.matches('sessionExpired'));

    // assert
    expect(expired.context.error?.kind).toBe('session_expired');
    expect(expired.context.refreshToken).toBeNull();
    expect(sim.refreshCount).toBe(0);
  });

  it('P13: a request after the 12 hours (a clock that moved on) gets session_expired, and no refresh is sent', async () => {
    // arrange
    vi.useFakeTimers({ toFake: ['Date'] });
    const { sim, actor, http } = await signedInMarketiger();
    vi.setSystemTime(Date.now() + 12 * 60 * 60_000 + 1_000);

    // act
    const error = await authErrorOf(http.get(projectsPath));

    // assert
    expect(error.kind).toBe('session_expired');
    expect(actor.getSnapshot().matches('sessionExpired')).toBe(true);
    expect(sim.refreshCount).toBe(0);
    expect(sim.requestCount(PROJECTS)).toBe(0);
  });

  it('P14: a wrong or expired SMS code is invalid_code, a 429 on resend is rate_limited, and no code is resubmitted by itself', async () => {
    // arrange
    const { sim, api } = await mrkter({ generateCode: () => '424242' });
    const subject = mrkterActor(api, { resendCooldownMs: 0 });
    subject.send({ type: 'auth.login', username: single.username, password: single.password });
    await settle(subject, (s) => s.matches('awaitingCode'));

    // act: a wrong code
    subject.send({ type: 'code.submit', code: '000000' });
    const wrong = await settle(subject, (s) => s.matches('awaitingCode') && s.context.error !== null);
    expectIdle(subject); // no code is being sent, and no timer could send one
    const afterWrong = sim.requestCount(AUTHENTICATE);
    // a resend inside the server's cooldown
    await settle(subject, (s) => s.matches({ awaitingCode: 'resendReady' }));
    subject.send({ type: 'code.resend' });
    const limited = await settle(
      subject,
      (s) => s.matches('awaitingCode') && s.context.error?.kind === 'rate_limited',
    );
    // the right code, once it has expired
    sim.advanceClock(6 * 60_000);
    subject.send({ type: 'code.submit', code: '424242' });
    const late = await settle(subject, (s) => s.matches('awaitingCode') && s.context.codeAttempts === 2);
    // nothing is being sent; the only timer is the resend cooldown (to resendReady, which sends nothing)
    expectIdle(subject, { timersBeyondMs: 5_000 });

    // assert
    expect(wrong.context.error?.kind).toBe('invalid_code');
    expect(afterWrong).toBe(1);
    expect(limited.context.error).toMatchObject({ kind: 'rate_limited', status: 429 });
    expect(limited.context.resendAvailableAt! - Date.now()).toBeGreaterThan(10_000);
    expect(late.context.error?.kind).toBe('invalid_code');
    expect(sim.requestCount(AUTHENTICATE)).toBe(2);
    expect(sim.requestCount(SMS)).toBe(2);
    expect(subject.getSnapshot().matches('awaitingCode')).toBe(true);
  });
});
