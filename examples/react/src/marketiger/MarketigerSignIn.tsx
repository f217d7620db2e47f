/**
 * The Marketiger flow: email + password → signed in. The statechart decides what is shown; this
 * component only renders its state and sends it events.
 */
import { useMachine } from '@xstate/react';
import { type MarketigerApi, marketigerActors, marketigerMachine } from 'authcharts';
import { useMemo } from 'react';
import { CredentialsForm } from '../CredentialsForm.js';
import { Spinner } from '../ui.js';
import { Projects } from './Projects.js';

export function MarketigerSignIn({ api }: { api: MarketigerApi }) {
  // One machine per api: provide() returns a new machine, and useMachine wants a stable one.
  const machine = useMemo(() => marketigerMachine.provide({ actors: marketigerActors(api) }), [api]);
  const [state, send, actor] = useMachine(machine);
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
