/**
 * The Marketiger flow: email + password → signed in. The statechart decides what is shown; this
 * component only renders its state and sends it events.
 */
import { useMachine } from '@xstate/react';
import {
  coordinateSession,
  type MarketigerApi,
  marketigerActors,
  marketigerMachine,
  type SessionCoordinator,
} from 'authcharts';
import { useEffect, useMemo } from 'react';
import { CredentialsForm } from '../CredentialsForm.js';
import { Spinner } from '../ui.js';
import { Projects } from './Projects.js';

/** The key the tabs share the session under (one signed-in person per browser profile here). */
const SESSION_KEY = 'marketiger';

export function MarketigerSignIn({
  api,
  coordinator = null,
}: {
  api: MarketigerApi;
  /** With a coordinator, every tab shares one session: see `?coordinate=1` in setup.ts. */
  coordinator?: SessionCoordinator | null;
}) {
  // One machine per api: provide() returns a new machine, and useMachine wants a stable one.
  const machine = useMemo(
    () =>
      marketigerMachine.provide({
        actors: coordinator
          ? marketigerActors(api, { coordinator, sessionKey: SESSION_KEY })
          : marketigerActors(api),
      }),
    [api, coordinator],
  );
  const [state, send, actor] = useMachine(machine);
  // Other tabs' tokens and sign-outs come in as events; this tab's sign-in and sign-out go out.
  useEffect(() => {
    if (!coordinator) return;
    const link = coordinateSession(actor, coordinator, { sessionKey: SESSION_KEY });
    return () => link.stop();
  }, [actor, coordinator]);
  const busy = state.hasTag('busy');

  if (state.matches('signedIn')) {
    return (
      <>
        <Projects actor={actor} baseURL={api.baseURL} />
        {busy && <Spinner label="Refreshing the session…" />}
        <button type="button" onClick={() => send({ type: 'auth.logout' })}>
          Sign out
        </button>
      </>
    );
  }
  // signedOut and sessionExpired (with the reason in context.error), and signingIn while busy.
  return (
    <CredentialsForm
      nameLabel="Email"
      submitLabel="Sign in"
      busy={busy ? 'Signing in…' : null}
      error={state.context.error}
      onSubmit={(email, password) => send({ type: 'auth.login', email, password })}
      onCancel={() => send({ type: 'auth.logout' })}
    />
  );
}
