/** The rule for which Mrkter identities can be chosen: one place, used by the machine and by UIs. */
import type { AuthErrorKind } from '../errors.js';
import type { MrkterIdentity } from '../types.js';

/**
 * Why an identity cannot be chosen for the SMS step, or `null` when it can: `no_phone_number` without a
 * verified phone (the code goes to `verifiedPhoneNumber`), `no_permission` when its `status` is not
 * `ACTIVE`. The Mrkter machine refuses `identity.select` with exactly this kind.
 *
 * @example
 * ```tsx
 * identities.map((identity) => <option disabled={identityProblem(identity) !== null}>…</option>)
 * ```
 */
export function identityProblem(
  identity: MrkterIdentity,
): Extract<AuthErrorKind, 'no_phone_number' | 'no_permission'> | null {
  const phone = identity.verifiedPhoneNumber;
  if (typeof phone !== 'string' || phone.trim() === '') return 'no_phone_number';
  if (identity.status !== 'ACTIVE') return 'no_permission';
  return null;
}
