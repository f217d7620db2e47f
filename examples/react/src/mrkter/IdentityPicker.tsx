import type { MrkterIdentity } from 'authcharts';
import { maskPhone } from '../ui.js';

/**
 * Why an identity cannot be chosen, or null when it can. The machine refuses these too
 * (`no_phone_number`, `no_permission`); saying so up front spares the person a failed click.
 */
export function whyUnavailable(identity: MrkterIdentity): string | null {
  if (identity.status !== 'ACTIVE') return `account is ${String(identity.status ?? 'unknown').toLowerCase()}`;
  if (!identity.verifiedPhoneNumber?.trim()) return 'no verified phone number';
  return null;
}

/** Every identity the server returned; the ones that cannot be chosen are shown, disabled, with why. */
export function IdentityPicker(props: {
  identities: MrkterIdentity[];
  onPick: (accountId: MrkterIdentity['accountId']) => void;
}) {
  return (
    <fieldset>
      <legend>Choose an account</legend>
      <ul className="identities">
        {props.identities.map((identity) => {
          const reason = whyUnavailable(identity);
          return (
            <li key={String(identity.accountId)} data-account-id={String(identity.accountId)}>
              <button
                type="button"
                disabled={reason !== null}
                onClick={() => props.onPick(identity.accountId)}
              >
                <strong>{identity.companyName ?? `Account ${identity.accountId}`}</strong>
                <span>
                  {identity.accountType ?? 'account'} · #{String(identity.accountId)} · SMS to{' '}
                  {maskPhone(identity.verifiedPhoneNumber)}
                </span>
                {reason && <em className="unavailable">Unavailable: {reason}</em>}
              </button>
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}
