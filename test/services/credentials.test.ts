/**
 * Each provider writes its own credential headers; the client's default merges them. The authorized
 * client's own tests (test/client) show them on the wire; these pin the functions themselves.
 */
import { describe, expect, it } from 'vitest';
import {
  authorizedAxiosDefaults,
  defaultCredentialHeaders,
  httpDefaults,
  marketigerApiDefaults,
  marketigerCredentialHeaders,
  mrkterApiDefaults,
  mrkterCredentialHeaders,
} from '../../src/index.js';

const signedIn = { accessToken: 'at-1', accessTokenExpiresAt: null, error: null };
const mrkterSession = { ...signedIn, accountId: 123, sessionId: 'sess-1' };

describe('credential headers', () => {
  it('Marketiger presents the bearer token only', () => {
    expect(marketigerCredentialHeaders(mrkterSession)).toEqual({ Authorization: 'Bearer at-1' });
  });

  it('Mrkter adds the account and session ids once the SMS step gave a session', () => {
    expect(mrkterCredentialHeaders(signedIn)).toEqual({ Authorization: 'Bearer at-1' });
    expect(mrkterCredentialHeaders({ ...signedIn, accountId: 123, sessionId: null })).toEqual({
      Authorization: 'Bearer at-1',
    });
    expect(mrkterCredentialHeaders(mrkterSession)).toEqual({
      Authorization: 'Bearer at-1',
      'x-account-id': '123',
      'x-session-id': 'sess-1',
    });
  });

  it("the default is every provider's headers merged, as before the split", () => {
    expect(defaultCredentialHeaders(signedIn)).toEqual({ Authorization: 'Bearer at-1' });
    expect(defaultCredentialHeaders(mrkterSession)).toEqual(mrkterCredentialHeaders(mrkterSession));
    expect(authorizedAxiosDefaults.credentialHeaders).toBe(defaultCredentialHeaders);
  });
});

describe('defaults beside their options', () => {
  it('are the documented values, each written once', () => {
    expect(httpDefaults).toEqual({ timeoutMs: 15_000, maxResponseBytes: 1024 * 1024 });
    expect(marketigerApiDefaults).toMatchObject({
      ...httpDefaults,
      baseURL: 'https://devapi.marketiger3d.com/v2',
    });
    expect(mrkterApiDefaults).toMatchObject({
      ...httpDefaults,
      authBaseURL: 'https://login.dev.mrkter.io',
      apiBaseURL: 'https://api.dev.mrkter.io',
      clientId: 'IuNTe8fftpw3a0KJKxsxBET8t3C6agZi',
      audience: 'https://dev-mrkter.io',
      connection: 'Username-Password-Authentication',
      scope: 'offline_access',
    });
    expect(authorizedAxiosDefaults).toMatchObject({
      refreshWaitMs: 30_000,
      timeout: httpDefaults.timeoutMs,
      maxRedirects: 0,
    });
  });
});
