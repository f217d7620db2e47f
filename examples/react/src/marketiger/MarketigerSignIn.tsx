/**
 * The Marketiger flow: email + password → (with `?projectId=`, the project check) → signed in. The
 * statechart decides what is shown; this component only renders its state and sends it events.
 */
import { useMachine } from '@xstate/react';
import {
  coordinateSession,
  type MarketigerApi,
  type MarketigerInput,
  marketigerActors,
  marketigerMachine,
  type SessionCoordinator,
} from 'authcharts';
import { useEffect, useMemo } from 'react';
import { CredentialsForm } from '../CredentialsForm.js';
import { testActorOptions } from '../testHooks.js';
import { Flow, SessionStatus } from '../ui.js';
import { Projects } from './Projects.js';

/** The key the tabs share the session under (one signed-in person per browser profile here). */
const SESSION_KEY = 'marketiger';

/** What each busy state before the session is waiting for, in words. */
const busyLabels: Record<string, string> = {
  signingIn: 'Signing in…',
  checkingProject: 'Checking access to the project…',
};

export function MarketigerSignIn({
  api,
  input = {},
  coordinator = null,
}: {
  api: MarketigerApi;
  input?: MarketigerInput;
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
  const [state, send, actor] = useMachine(machine, { input, ...testActorOptions() });
  // Other tabs' tokens and sign-outs come in as events; this tab's sign-in and sign-out go out.
  useEffect(() => {
    if (!coordinator) return;
    const link = coordinateSession(actor, coordinator, { sessionKey: SESSION_KEY });
    return () => link.stop();
  }, [actor, coordinator]);
  const busy = state.hasTag('busy');

  if (state.matches('signedIn')) {
    return (
      <Flow state={state.value}>
        <Projects actor={actor} baseURL={api.baseURL} />
        <SessionStatus
          refreshing={busy}
          backingOff={state.matches({ signedIn: 'backingOff' })}
          onRetry={() => send({ type: 'auth.refresh' })}
        />
        <button type="button" onClick={() => send({ type: 'auth.logout' })}>
          Sign out
        </button>
      </Flow>
    );
  }
  // signedOut and sessionExpired (with the reason in context.error), and signingIn / checkingProject while busy.
  return (
    <Flow state={state.value}>
      <CredentialsForm
        nameLabel="Email"
        submitLabel="Sign in"
        busy={busy ? (busyLabels[String(state.value)] ?? 'Working…') : null}
        error={state.context.error}
        onSubmit={(email, password) => send({ type: 'auth.login', email, password })}
        onCancel={() => send({ type: 'auth.logout' })}
      />
    </Flow>
  );
}
