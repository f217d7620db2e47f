/**
 * `authcharts login marketiger|mrkter`: a real sign-in from the terminal, through the same machines
 * and services an app uses. Interactive on a TTY (hidden password, identity picker, code prompt with
 * resend after the cooldown, spinners); without a TTY it takes flags or environment variables and
 * never prompts (the SMS code is then read as one line from standard input).
 */
import { createInterface } from 'node:readline';
import * as prompts from '@clack/prompts';
import pc from 'picocolors';
import { type AnyActorRef, waitFor } from 'xstate';
import { AuthError, type AuthErrorData } from '../errors.js';
import { marketigerSession, mrkterSession } from './actors.js';
import { mask, stateMeanings, stateToString, traceTransitions } from './trace.js';

export interface LoginOptions {
  baseUrl?: string;
  authUrl?: string;
  apiUrl?: string;
  email?: string;
  username?: string;
  password?: string;
  accountId?: string;
  code?: string;
  projectId?: string;
  debug?: boolean;
  interactive: boolean;
}

const FLOW_TIMEOUT = { timeout: 60_000 };

/** An `AuthError` from the data a machine keeps in context. */
function errorFrom(data: AuthErrorData | null, fallback = 'The sign-in did not finish.'): AuthError {
  return data
    ? new AuthError(data.kind, { message: data.message, ...(data.status ? { status: data.status } : {}) })
    : new AuthError('signed_out', { message: fallback });
}

async function ask(
  interactive: boolean,
  given: string | undefined,
  question: () => Promise<string | symbol>,
  name: string,
) {
  if (given) return given;
  if (!interactive)
    throw new AuthError('invalid_credentials', {
      message: `No ${name} given: pass it as a flag or in the environment.`,
    });
  const answer = await question();
  if (prompts.isCancel(answer)) throw new AuthError('aborted', { message: 'Cancelled.' });
  return answer as string;
}

/** The user name (whatever the provider calls it) and the password, from the options or asked for. */
async function askCredentials(options: LoginOptions, given: string | undefined, name: string, label: string) {
  const user = await ask(options.interactive, given, () => prompts.text({ message: label }), name);
  const password = await ask(
    options.interactive,
    options.password,
    () => prompts.password({ message: 'Password' }),
    'password',
  );
  return { user, password };
}

async function readLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin });
  try {
    for await (const line of rl) return line.trim();
    return '';
  } finally {
    rl.close();
  }
}

function spinner(interactive: boolean) {
  if (!interactive) return { start() {}, stop() {} };
  const s = prompts.spinner();
  return { start: (m: string) => s.start(m), stop: (m: string) => s.stop(m) };
}

/** Signs in to Marketiger; resolves with the exit code. */
export async function loginMarketiger(options: LoginOptions): Promise<number> {
  const { user: email, password } = await askCredentials(options, options.email, 'email', 'Email');
  const { api, actor } = marketigerSession(
    options.baseUrl ? { baseURL: options.baseUrl } : {},
    options.projectId ? { projectId: options.projectId } : {},
    options.debug ? traceTransitions({ label: 'marketiger', write: (l) => console.error(l) }) : undefined,
  );
  actor.start();
  const spin = spinner(options.interactive);
  try {
    spin.start(`Signing in to ${api.baseURL}`);
    actor.send({ type: 'auth.login', email, password });
    const done = await waitFor(actor, (s) => s.matches('signedIn') || s.matches('signedOut'), FLOW_TIMEOUT);
    spin.stop(describeState(done.value));
    if (!done.matches('signedIn')) throw errorFrom(done.context.error);
    printOutcome({
      provider: 'Marketiger',
      accessToken: done.context.accessToken,
      refreshToken: done.context.refreshToken,
      expiresAt: done.context.accessTokenExpiresAt,
    });
    return 0;
  } finally {
    actor.stop();
  }
}

/** Signs in to Mrkter (password, identity, SMS code); resolves with the exit code. */
export async function loginMrkter(options: LoginOptions): Promise<number> {
  const { user: username, password } = await askCredentials(
    options,
    options.username,
    'username',
    'Username (email)',
  );
  const { api, actor } = mrkterSession(
    {
      ...(options.authUrl ? { authBaseURL: options.authUrl } : {}),
      ...(options.apiUrl ? { apiBaseURL: options.apiUrl } : {}),
    },
    {},
    options.debug ? traceTransitions({ label: 'mrkter', write: (l) => console.error(l) }) : undefined,
  );
  actor.start();
  const spin = spinner(options.interactive);
  const settle = (states: string[]) =>
    waitFor(actor, (s) => states.some((state) => s.matches(state as never)), FLOW_TIMEOUT) as Promise<
      ReturnType<typeof actor.getSnapshot>
    >;
  try {
    spin.start(`Signing in at ${api.authBaseURL}`);
    actor.send({ type: 'auth.login', username, password });
    let snapshot = await settle(['selectingIdentity', 'awaitingCode', 'signedOut']);
    spin.stop(describeState(snapshot.value));
    while (!snapshot.matches('signedIn')) {
      if (snapshot.matches('signedOut') || snapshot.matches('sessionExpired'))
        throw errorFrom(snapshot.context.error);
      if (snapshot.context.error) console.error(pc.yellow(`  ${snapshot.context.error.message}`));
      if (snapshot.matches('selectingIdentity')) {
        const accountId = await pickIdentity(options, snapshot.context.identities);
        spin.start('Sending the SMS code');
        actor.send({ type: 'identity.select', accountId });
        snapshot = await settle(['awaitingCode', 'selectingIdentity', 'signedOut']);
        spin.stop(describeState(snapshot.value));
        if (snapshot.matches('selectingIdentity') && !options.interactive)
          throw errorFrom(snapshot.context.error);
        continue;
      }
      if (snapshot.matches('awaitingCode')) {
        const code = await askCode(options, actor, snapshot.context.phoneNumber);
        if (code === 'resend') actor.send({ type: 'code.resend' });
        else actor.send({ type: 'code.submit', code });
        options.code = undefined; // a given code is tried once; never resubmitted
        snapshot = await settle(['awaitingCode', 'signedIn', 'signedOut', 'selectingIdentity']);
        if (!options.interactive && snapshot.matches('awaitingCode')) throw errorFrom(snapshot.context.error);
      }
    }
    const { context } = snapshot;
    printOutcome({
      provider: `Mrkter (account ${context.accountId})`,
      accessToken: context.accessToken,
      refreshToken: context.refreshToken,
      expiresAt: context.accessTokenExpiresAt,
      sessionId: context.sessionId,
    });
    return 0;
  } finally {
    actor.stop();
  }
}

async function pickIdentity(
  options: LoginOptions,
  identities: readonly {
    accountId: number | string;
    companyName?: string | null;
    status?: string;
    verifiedPhoneNumber?: string | null;
  }[],
) {
  if (options.accountId) {
    const match = identities.find((i) => String(i.accountId) === options.accountId);
    return match ? match.accountId : options.accountId;
  }
  if (!options.interactive)
    throw new AuthError('no_identities', {
      message: 'Several identities: pass --account-id (or MRKTER_ACCOUNT_ID).',
    });
  const choice = await prompts.select({
    message: 'Which identity?',
    options: identities.map((i) => ({
      value: String(i.accountId),
      label: `${i.companyName ?? 'account'} (${i.accountId})`,
      hint:
        i.status !== 'ACTIVE'
          ? `status ${i.status}`
          : !i.verifiedPhoneNumber
            ? 'no verified phone'
            : `SMS to …${i.verifiedPhoneNumber.slice(-4)}`,
    })),
  });
  if (prompts.isCancel(choice)) throw new AuthError('aborted', { message: 'Cancelled.' });
  return identities.find((i) => String(i.accountId) === choice)?.accountId ?? choice;
}

async function askCode(options: LoginOptions, actor: AnyActorRef, phone: string | null): Promise<string> {
  if (options.code) return options.code;
  if (!options.interactive) return readLine();
  const canResend = () => actor.getSnapshot().matches({ awaitingCode: 'resendReady' });
  const answer = await prompts.text({
    message: `Code sent to …${(phone ?? '').slice(-4)}${canResend() ? ' (type "resend" for a new one)' : ''}`,
    validate: (v) =>
      v === 'resend'
        ? canResend()
          ? undefined
          : 'Resend is not available yet.'
        : /^\S+$/.test(v ?? '')
          ? undefined
          : 'Type the code.',
  });
  if (prompts.isCancel(answer)) throw new AuthError('aborted', { message: 'Cancelled.' });
  return answer;
}

function printOutcome(outcome: {
  provider: string;
  accessToken: string | null;
  refreshToken: string | null;
  expiresAt: number | null;
  sessionId?: string | null;
}) {
  console.log(pc.green(`Signed in to ${outcome.provider}.`));
  console.log(`  access token   ${mask(outcome.accessToken)}`);
  console.log(`  refresh token  ${mask(outcome.refreshToken)}`);
  if (outcome.sessionId !== undefined) console.log(`  session id     ${mask(outcome.sessionId)}`);
  if (outcome.expiresAt) console.log(`  expires        ${new Date(outcome.expiresAt).toISOString()}`);
}

/** What a state means to the person at the terminal (the state's name only when it has no description). */
function describeState(value: unknown): string {
  const state = stateToString(value);
  const meaning = stateMeanings[state];
  return meaning ? meaning.charAt(0).toUpperCase() + meaning.slice(1) : state;
}
