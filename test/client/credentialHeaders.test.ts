/**
 * The client knows no provider: it attaches whatever `credentialHeaders` gives it, keeps those headers
 * off other origins and scrubs the secret ones from errors. Shown with a provider of its own.
 */
import { AxiosError } from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuthorizedAxios } from '../../src/client/createAuthorizedAxios.js';
import { type SimServer, startSimServer } from '../../src/testing/simServer.js';
import type { SessionActor, SessionSnapshot } from '../../src/types.js';

const servers: SimServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(): Promise<SimServer> {
  const started = await startSimServer({
    routes: {
      'GET /ok': () => ({ status: 200, json: { ok: true } }),
      'GET /broken': () => ({ status: 500, json: { error: 'boom' } }),
    },
  });
  servers.push(started);
  return started;
}

/** A signed-in session actor, as the client reads one (the SessionActor contract). */
function signedInActor(): SessionActor {
  const snapshot: SessionSnapshot = {
    status: 'active',
    matches: (value) => value === 'signedIn' || (typeof value === 'object' && value?.signedIn === 'active'),
    context: { accessToken: 'at-1', accessTokenExpiresAt: null, error: null },
  };
  return {
    getSnapshot: () => snapshot,
    subscribe: () => ({ unsubscribe() {} }),
    send: () => undefined,
  };
}

/** A provider of our own: a bearer token and an API key. */
const keyed = (context: SessionSnapshot['context']) => ({
  Authorization: `Bearer ${context.accessToken}`,
  'x-api-key': 'key-1',
});

describe('createAuthorizedAxios with a provider of its own', () => {
  it('sends the provider credential headers to its own origin and none of them elsewhere', async () => {
    // arrange
    const own = await server();
    const other = await server();
    const subject = createAuthorizedAxios(signedInActor(), { baseURL: own.url, credentialHeaders: keyed });

    // act
    await subject.get('/ok');
    await subject.get(`${other.url}/ok`, { headers: { 'x-api-key': 'key-1', Authorization: 'Bearer at-1' } });

    // assert
    expect(own.log[0]?.headers['x-api-key']).toBe('key-1');
    expect(own.log[0]?.headers.authorization).toBe('Bearer at-1');
    expect(other.log[0]?.headers['x-api-key']).toBeUndefined();
    expect(other.log[0]?.headers.authorization).toBeUndefined();
  });

  it('scrubs the secret credential headers from an error it passes on', async () => {
    // arrange
    const own = await server();
    const subject = createAuthorizedAxios(signedInActor(), { baseURL: own.url, credentialHeaders: keyed });

    // act
    const error = await subject.get('/broken').catch((e: unknown) => e);

    // assert
    expect(error).toBeInstanceOf(AxiosError);
    const headers = (error as AxiosError).config?.headers;
    expect(headers?.get('x-api-key')).toBe('[redacted]');
    expect(headers?.get('authorization')).toBe('[redacted]');
    expect(JSON.stringify(error)).not.toContain('key-1');
  });
});
