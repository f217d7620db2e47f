import { useMachine } from '@xstate/react';
import { type FormEvent, useMemo } from 'react';
import { signInMachine } from './signIn.js';

export function App({ baseURL }: { baseURL: string }) {
  const machine = useMemo(() => signInMachine(baseURL), [baseURL]);
  const [state, send] = useMachine(machine);
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    send({ type: 'auth.login', email: String(form.get('email')), password: String(form.get('password')) });
  };
  if (state.matches('signedIn')) {
    return (
      <button type="button" onClick={() => send({ type: 'auth.logout' })}>
        Sign out
      </button>
    );
  }
  return (
    <form onSubmit={onSubmit}>
      <input name="email" type="email" />
      <input name="password" type="password" />
      <button type="submit" disabled={state.matches('signingIn')}>
        Sign in
      </button>
      {state.context.error && <p role="alert">{state.context.error.message}</p>}
    </form>
  );
}
