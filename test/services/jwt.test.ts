/**
 * The JWT reader the parsers use to plan refreshes: `exp` from a compact JWS's payload, checked against
 * jose's `decodeJwt` (the library the simulators sign with) on the same tokens.
 */
import { decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { readJwtExpiry } from '../../src/services/jwt.js';

const key = new TextEncoder().encode('test-key-of-at-least-32-bytes-long!!');
const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('readJwtExpiry', () => {
  it('reads exp as epoch ms, as jose decodes it, for signed tokens of any payload length and UTF-8 claims', async () => {
    for (const name of ['a', 'ab', 'abc', 'Zoë Ångström 名前', '🙂'.repeat(7)]) {
      // arrange
      const subject = await new SignJWT({ name })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(1_900_000_000)
        .sign(key);

      // act
      const expiry = readJwtExpiry(subject);

      // assert
      expect(expiry, name).toBe((decodeJwt(subject).exp as number) * 1000);
    }
  });

  it('says null for a JWT without a usable exp, and undefined for anything that is not a JWT', () => {
    const header = part({ alg: 'HS256' });
    expect(readJwtExpiry(`${header}.${part({ sub: '1' })}.sig`)).toBeNull();
    expect(readJwtExpiry(`${header}.${part({ exp: '1900000000' })}.sig`)).toBeNull();
    expect(readJwtExpiry(`${header}.${part({ exp: -5 })}.sig`)).toBeNull();
    for (const subject of [
      '',
      'opaque-token',
      `${header}.${part({ exp: 1 })}`,
      `${header}.${part({ exp: 1 })}.sig.extra.parts`,
      `${header}..sig`,
      `${header}.${part([1, 2])}.sig`,
      `${header}.${part('text')}.sig`,
      `${header}.not+base64/url.sig`,
      `${header}.${Buffer.from('{"exp":1').toString('base64url')}.sig`,
      `${header}.${Buffer.from([0xff, 0xfe]).toString('base64url')}.sig`,
      `${header}.a.sig`,
    ]) {
      expect(readJwtExpiry(subject), subject).toBeUndefined();
    }
  });
});
