import { describe, expect, it } from 'vitest';
import { identityProblem } from '../../src/machines/identity.js';

describe('identityProblem', () => {
  it.each([
    [{ accountId: 1, status: 'ACTIVE', verifiedPhoneNumber: '+972531112233' }, null],
    [{ accountId: 1, status: 'ACTIVE', verifiedPhoneNumber: null }, 'no_phone_number'],
    [{ accountId: 1, status: 'ACTIVE', verifiedPhoneNumber: '  ' }, 'no_phone_number'],
    [{ accountId: 1, status: 'ACTIVE' }, 'no_phone_number'],
    [{ accountId: 1, status: 'INACTIVE', verifiedPhoneNumber: '+972531112233' }, 'no_permission'],
    [{ accountId: 1, verifiedPhoneNumber: '+972531112233' }, 'no_permission'],
  ])('says why %o cannot be chosen (%s)', (identity, expected) => {
    expect(identityProblem(identity)).toBe(expected);
  });
});
