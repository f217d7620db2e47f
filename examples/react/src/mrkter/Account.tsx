import type { SessionActor } from 'authcharts';
import { useState } from 'react';
import { ErrorNote, Spinner } from '../ui.js';
import { useAuthorizedGet } from '../useAuthorizedGet.js';

/** What GET /accounts/current answers (the fields shown here). */
interface CurrentAccount {
  accountId: number | string;
  companyName: string | null;
  accountType: string | null;
  currency: string | null;
  status: string | null;
}

/**
 * The signed-in view. The request carries Authorization, x-account-id and x-session-id, all added
 * by the authorized client from the machine's context: nothing here handles a token or a session id.
 */
export function Account({ actor, baseURL }: { actor: SessionActor; baseURL: string }) {
  // A new key mounts the details again, which sends the GET again.
  const [round, setRound] = useState(0);
  return (
    <section aria-label="Signed in">
      <h3>Signed in</h3>
      <AccountDetails key={round} actor={actor} baseURL={baseURL} />
      <button type="button" onClick={() => setRound((n) => n + 1)}>
        Reload account
      </button>
    </section>
  );
}

function AccountDetails({ actor, baseURL }: { actor: SessionActor; baseURL: string }) {
  const account = useAuthorizedGet<CurrentAccount>(actor, baseURL, '/accounts/current');
  return (
    <>
      {account.status === 'loading' && <Spinner label="Loading the account…" />}
      {account.status === 'failed' && <ErrorNote error={account.error} />}
      {account.status === 'done' && (
        <dl data-testid="account">
          <dt>Company</dt>
          <dd>{account.data.companyName ?? '—'}</dd>
          <dt>Account</dt>
          <dd>#{String(account.data.accountId)}</dd>
          <dt>Type</dt>
          <dd>{account.data.accountType ?? '—'}</dd>
          <dt>Currency</dt>
          <dd>{account.data.currency ?? '—'}</dd>
          <dt>Status</dt>
          <dd>{account.data.status ?? '—'}</dd>
        </dl>
      )}
    </>
  );
}
