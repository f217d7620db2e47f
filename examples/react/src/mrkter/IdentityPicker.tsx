import { identityProblem, type MrkterIdentity } from 'authcharts';
import { maskPhone } from '../ui.js';

/**
 * Why an identity cannot be chosen, or null when it can: the machine's own rule (`identityProblem`),
 * said up front so the person is spared a failed click.
 */
export function whyUnavailable(identity: MrkterIdentity): string | null {
  switch (identityProblem(identity)) {
    case 'no_phone_number':
      return 'no verified phone number';
    case 'no_permission':
      return `account is ${String(identity.status ?? 'unknown').toLowerCase()}`;
    default:
      return null;
  }
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
