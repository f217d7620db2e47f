/**
 * The people the Mrkter simulator knows: users with their identities in the full shape of the Mrkter
 * API's answer, the default users, and the per-user state both servers read (Auth0's user id and failed
 * logins).
 */
import { randomBytes } from 'node:crypto';
import type { MrkterIdentity } from '../../services/types.js';

/** A user the simulator knows. */
export interface MrkterSimUser {
  /** The Auth0 username (an email in the Mrkter authorization guide). */
  username: string;
  password: string;
  /** The identities `GET /user-identity/me/users` answers, in the full shape of the guide's answer, sent as given. */
  identities: MrkterIdentity[];
  /** Auth0 answers 401 `unauthorized` "user is blocked" on login and refresh. */
  blocked?: boolean;
  /** Auth0 answers 403 `mfa_required` (with an `mfa_token`) to the password grant, as a tenant with Auth0 MFA does. */
  mfaRequired?: boolean;
}

/** An identity in the full shape of the guide's answer; `overrides` win. */
function seedIdentity(
  overrides: Partial<MrkterIdentity> & Pick<MrkterIdentity, 'accountId'>,
): MrkterIdentity {
  return {
    id: 231,
    firstName: 'John',
    lastName: 'Dow',
    avatar: null,
    email: 'john.dow@mrkter.test',
    status: 'ACTIVE',
    currency: 'USD',
    verifiedPhoneNumber: '+972531112233',
    notVerifiedPhoneNumber: null,
    invitedAt: '2023-03-31T12:57:53.089Z',
    accountType: 'ADVERTISER',
    accountCreatedAt: '2023-03-31T12:57:53.089Z',
    companyName: 'Payouts',
    inviteExpiresAt: '2023-03-31T12:57:53.089Z',
    systemRoles: [
      {
        id: 0,
        name: 'OWNER',
        description: 'OWNER_DESCRIPTION',
        permissions: [{ id: 0, name: 'VENDOR_FINANCE:READ', resource: 'VENDOR_FINANCE', action: 'READ' }],
      },
    ],
    totpEnabled: false,
    phoneNumberAuthEnabled: false,
    location: 'US',
    phoneNumberCountry: 'US',
    phoneNumberCode: '972',
    isEmailVerified: true,
    isPasswordSetForInvitedUser: true,
    ...overrides,
  };
}

/**
 * The default users:
 * - `demo@mrkter.test` / `demo-password`: two ACTIVE identities with verified phones (accounts 123 and 456);
 * - `single@mrkter.test` / `single-password`: one identity (account 789);
 * - `nophone@mrkter.test` / `nophone-password`: one identity without a verified phone (1001), one
 *   `INACTIVE` (1002) and one usable (1003).
 */
export const defaultMrkterUsers: readonly MrkterSimUser[] = [
  {
    username: 'demo@mrkter.test',
    password: 'demo-password',
    identities: [
      seedIdentity({ id: 231, accountId: 123, email: 'demo@mrkter.test' }),
      seedIdentity({
        id: 232,
        accountId: 456,
        email: 'demo@mrkter.test',
        verifiedPhoneNumber: '+972531112244',
        companyName: 'Acme Media',
        accountType: 'PUBLISHER',
        currency: 'EUR',
      }),
    ],
  },
  {
    username: 'single@mrkter.test',
    password: 'single-password',
    identities: [
      seedIdentity({
        id: 301,
        accountId: 789,
        email: 'single@mrkter.test',
        firstName: 'Sam',
        lastName: 'Single',
        verifiedPhoneNumber: '+972531112255',
        companyName: 'Solo Ads',
      }),
    ],
  },
  {
    username: 'nophone@mrkter.test',
    password: 'nophone-password',
    identities: [
      seedIdentity({
        id: 401,
        accountId: 1001,
        email: 'nophone@mrkter.test',
        verifiedPhoneNumber: null,
        notVerifiedPhoneNumber: '+972531112266',
        companyName: 'Unverified Ltd',
      }),
      seedIdentity({
        id: 402,
        accountId: 1002,
        email: 'nophone@mrkter.test',
        status: 'INACTIVE',
        verifiedPhoneNumber: '+972531112277',
        companyName: 'Dormant Inc',
      }),
      seedIdentity({
        id: 403,
        accountId: 1003,
        email: 'nophone@mrkter.test',
        verifiedPhoneNumber: '+972531112288',
        companyName: 'Working Co',
      }),
    ],
  },
];

export interface UserState {
  user: MrkterSimUser;
  /** The Auth0 user id (`sub`). */
  sub: string;
  failedLogins: number;
}

/** The users by username, each with a fresh Auth0 user id and no failed login. */
export function userStates(users: readonly MrkterSimUser[]): Map<string, UserState> {
  const states = new Map<string, UserState>();
  for (const user of users) {
    states.set(user.username, {
      user: { ...user },
      sub: `auth0|${randomBytes(12).toString('hex')}`,
      failedLogins: 0,
    });
  }
  return states;
}
