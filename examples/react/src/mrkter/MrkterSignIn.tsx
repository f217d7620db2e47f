/**
 * The Mrkter flow: credentials → identity → SMS code → signed in. Each step is one component that
 * gets plain props; this one picks the step from the machine's state and wires events.
 */
import { useMachine } from '@xstate/react';
import { type MrkterApi, type MrkterInput, mrkterActors, mrkterMachine } from 'authcharts';
import { useEffect, useMemo, useState } from 'react';
import type { Snapshot } from 'xstate';
import { CredentialsForm } from '../CredentialsForm.js';
import { testActorOptions } from '../testHooks.js';
import { ErrorNote, Flow, SessionStatus, Spinner } from '../ui.js';
import { Account } from './Account.js';
import { CodeForm } from './CodeForm.js';
import { IdentityPicker } from './IdentityPicker.js';

/** What each busy top-level state is waiting for, in words. */
const busyLabels: Record<string, string> = {
  authenticating: 'Signing in…',
  loadingIdentities: 'Loading your accounts…',
  requestingCode: 'Sending a code…',
  verifyingCode: 'Checking the code…',
};

/** Where `?persist=1` keeps the session: this tab only, gone when it closes. */
const STORAGE_KEY = 'authcharts-example:mrkter';

/** The snapshot saved by an earlier load of this tab, if any (a corrupt one is ignored). */
function savedSnapshot(): Snapshot<unknown> | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Snapshot<unknown> | null;
    return saved?.status === 'active' ? saved : undefined;
  } catch {
    return undefined;
  }
}

export function MrkterSignIn({
  api,
  input,
  persist = false,
}: {
  api: MrkterApi;
  input?: MrkterInput;
  /** Save the session in `sessionStorage` and restore it on reload (see `?persist=1` in setup.ts). */
  persist?: boolean;
}) {
  const machine = useMemo(() => mrkterMachine.provide({ actors: mrkterActors(api) }), [api]);
  // Read once: useMachine takes its options on the first render only.
  const [snapshot] = useState(() => (persist ? savedSnapshot() : undefined));
  // XState's own restore idiom: the machine re-arms its timers (refresh, resend cooldown) by itself.
  const [state, send, actor] = useMachine(machine, {
    ...(snapshot ? { snapshot } : { input }),
    ...testActorOptions(),
  });
  useEffect(() => {
    if (!persist) return;
    const subscription = actor.subscribe(() => {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(actor.getPersistedSnapshot()));
    });
    return () => subscription.unsubscribe();
  }, [actor, persist]);
  const { context } = state;
  const logout = () => send({ type: 'auth.logout' });
  const busy = state.hasTag('busy') ? (busyLabels[String(state.value)] ?? 'Working…') : null;

  // The step the machine is in, wrapped in one root carrying its state name.
  function view() {
    if (state.matches('signedIn')) {
      return (
        <>
          <Account actor={actor} baseURL={api.apiBaseURL} />
          <SessionStatus
            refreshing={busy !== null}
            backingOff={state.matches({ signedIn: 'backingOff' })}
            onRetry={() => send({ type: 'auth.refresh' })}
          />
          <button type="button" onClick={logout}>
            Sign out
          </button>
        </>
      );
    }
    if (state.matches('selectingIdentity')) {
      return (
        <>
          <IdentityPicker
            identities={context.identities}
            onPick={(accountId) => send({ type: 'identity.select', accountId })}
          />
          <ErrorNote error={context.error} />
          <CancelButton onClick={logout} />
        </>
      );
    }
    if (state.matches('awaitingCode')) {
      return (
        <>
          <CodeForm
            phoneNumber={context.phoneNumber}
            resendAvailableAt={context.resendAvailableAt}
            canResend={state.matches({ awaitingCode: 'resendReady' })}
            onSubmit={(code) => send({ type: 'code.submit', code })}
            onResend={() => send({ type: 'code.resend' })}
            onChangeIdentity={
              context.identities.length > 1 ? () => send({ type: 'identity.change' }) : undefined
            }
          />
          <ErrorNote
            error={context.error}
            extra={
              context.error?.kind === 'invalid_code'
                ? `${context.maxCodeAttempts - context.codeAttempts} attempt(s) left.`
                : undefined
            }
          />
          <CancelButton onClick={logout} />
        </>
      );
    }
    if (state.matches('requestingCode') || state.matches('verifyingCode')) {
      return (
        <div className="row">
          <Spinner label={busy ?? ''} />
          <CancelButton onClick={logout} />
        </div>
      );
    }
    // signedOut and sessionExpired (with the reason in context.error), and the busy sign-in steps.
    return (
      <CredentialsForm
        nameLabel="Username"
        submitLabel="Continue"
        busy={busy}
        error={context.error}
        onSubmit={(username, password) => send({ type: 'auth.login', username, password })}
        onCancel={logout}
      />
    );
  }
  return <Flow state={state.value}>{view()}</Flow>;
}

function CancelButton({ onClick }: { onClick: () => void }) {
  return (
    <button type="button" className="secondary" onClick={onClick}>
      Cancel
    </button>
  );
}
