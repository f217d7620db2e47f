import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MARKETIGER_DEMO_USER,
  marketigerSimulatorDefaults,
  mrkterSimulatorDefaults,
  simServerDefaults,
  startMarketigerSimulator,
  startMrkterSimulator,
  startSimServer,
} from '../../src/testing/index.js';
import { withDefaults } from '../../src/testing/simHelpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

describe('simulator defaults', () => {
  it('fills in only the options left out, as ?? does field by field', () => {
    // arrange
    const options: { host?: string; port?: number | undefined; etag?: boolean } = {
      port: undefined,
      etag: true,
    };

    // act
    const subject = withDefaults(options, { host: 'localhost', port: 0, etag: false });

    // assert
    expect(subject).toEqual({ host: 'localhost', port: 0, etag: true });
  });

  it('a server started without host or port listens where simServerDefaults says', async () => {
    // act
    const subject = await startSimServer({ routes: {} });
    closers.push(() => subject.close());

    // assert
    expect(new URL(subject.url).hostname).toBe(simServerDefaults.host);
    expect(subject.port).toBeGreaterThan(simServerDefaults.port);
  });

  it('a Marketiger simulator started without options knows the demo account and issues 1 h tokens', async () => {
    // arrange
    const subject = await startMarketigerSimulator();
    closers.push(() => subject.close());

    // act
    const answer = await fetch(`${subject.baseURL}/Auth/Login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password }),
    });
    const { data } = (await answer.json()) as { data: { accessToken: string } };
    const claims = decodeJwt(data.accessToken);

    // assert
    expect(marketigerSimulatorDefaults.users).toEqual([MARKETIGER_DEMO_USER]);
    expect((claims.exp! - claims.iat!) * 1000).toBe(marketigerSimulatorDefaults.accessTokenTtlMs);
  });

  it('a Mrkter simulator started without options accepts the default client and answers its token lifetime', async () => {
    // arrange
    const subject = await startMrkterSimulator();
    closers.push(() => subject.close());
    const user = mrkterSimulatorDefaults.users[0]!;

    // act
    const answer = await fetch(`${subject.authUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        username: user.username,
        password: user.password,
        audience: mrkterSimulatorDefaults.audience,
        client_id: mrkterSimulatorDefaults.clientId,
        scope: 'offline_access',
      }),
    });

    // assert
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { expires_in: number }).expires_in).toBe(
      mrkterSimulatorDefaults.accessTokenTtlSeconds,
    );
  });
});
