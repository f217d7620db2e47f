/** Marketiger: the machine with marketigerActors (the actors' contract with the service). Run by test/machines/marketiger.test.ts. */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { marketigerMachine } from '../../../src/machines/marketigerMachine.js';
import { marketigerActors } from '../../../src/services/marketiger/actors.js';
import type { MarketigerApi } from '../../../src/services/types.js';
import { PASSWORD, settle } from '../harness.js';
import { start, tokens } from './fixtures.js';

describe('marketigerMachine with marketigerActors', () => {
  /** An in-memory MarketigerApi: the actors' contract with the service, without HTTP. */
  function fakeApi() {
    const seen: { method: string; input: unknown; signal: AbortSignal | undefined }[] = [];
    let pending: (() => void) | undefined;
    const api: MarketigerApi = {
      baseURL: 'https://api.test',
      async login(input, options) {
        seen.push({ method: 'login', input: { ...input }, signal: options?.signal });
        return tokens(1);
      },
      refreshTokens(input, options) {
        seen.push({ method: 'refreshTokens', input, signal: options?.signal });
        return new Promise((resolve) => {
          pending = () => resolve(tokens(2));
        });
      },
      async checkProjectAccess(input, options) {
        seen.push({ method: 'checkProjectAccess', input, signal: options?.signal });
      },
      async getProjects() {
        return [];
      },
    };
    return { api, seen, answerRefresh: () => pending?.() };
  }

  it('passes each input, password included, and an abort signal to the service', async () => {
    // arrange
    const { api, seen } = fakeApi();
    const subject = start(marketigerMachine.provide({ actors: marketigerActors(api) }), {
      input: { projectId: 'p-42' },
    });

    // act
    subject.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    await settle();
    subject.send({ type: 'auth.refresh' });
    subject.send({ type: 'auth.logout' });

    // assert
    expect(seen.map((s) => s.method)).toEqual(['login', 'checkProjectAccess', 'refreshTokens']);
    expect(seen[0]?.input).toEqual({ email: 'ada@example.com', password: PASSWORD });
    expect(seen[1]?.input).toEqual({ accessToken: 'access-1', projectId: 'p-42' });
    expect(seen[2]?.input).toEqual({ refreshToken: 'refresh-1' });
    expect(seen.every((s) => s.signal instanceof AbortSignal)).toBe(true);
    expect(seen[2]?.signal?.aborted).toBe(true);
  });

  it('does not resend a sign-in restored from JSON, whose password was never stored', async () => {
    // arrange
    const { api, seen } = fakeApi();
    const machine = marketigerMachine.provide({ actors: marketigerActors(api) });
    const first = createActor(machine);
    first.start();
    first.send({ type: 'auth.login', email: 'ada@example.com', password: PASSWORD });
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
    first.stop();
    seen.length = 0;

    // act
    const subject = start(machine, { snapshot: persisted });
    await settle();

    // assert
    expect(seen).toHaveLength(0);
    expect(subject.getSnapshot().value).toBe('signedOut');
    expect(subject.getSnapshot().context.error?.kind).toBe('aborted');
  });
});
