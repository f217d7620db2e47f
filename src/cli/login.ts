/**
 * `authcharts login marketiger|mrkter`: a real sign-in from the terminal, through the same machines
 * and services an app uses, then the session stored for `status`, `api` and `token` (store.ts).
 * Interactive on a TTY: a wrong password asks again (three tries), the identity picker shows the
 * identities that cannot be used (disabled, with the reason), the SMS step counts down to when a new
 * code may be asked for, accepts `resend`, and says how many attempts are left. Without a TTY it takes
 * flags or environment variables and never prompts (the SMS code is then read as one line from
 * standard input).
 */
import { createInterface } from 'node:readline';
import * as prompts from '@clack/prompts';
import pc from 'picocolors';
import { type AnyActorRef, type InspectionEvent, waitFor } from 'xstate';
import type { CoordinatedContext } from '../coordination/coordinateSession.js';
import { AuthError, type AuthErrorData, toAuthError } from '../errors.js';
import { identityProblem, type MrkterIdentity } from '../index.js';
import { marketigerSession, mrkterSession } from './actors.js';
import { CliError, debugLogger, EXIT, hostOf, reportFailure } from './failure.js';
import { DEFAULT_PROFILE, openStore, type ProviderUrls, type SessionMeta, urlsFor } from './store.js';
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
  profile?: string;
  /** Mrkter: seconds before the machine accepts `resend` (default: the machine's 30 s). */
  resendCooldown?: number;
  debug?: boolean;
  interactive: boolean;
  /** Where the session is stored (default: the environment's config folder). */
  env?: NodeJS.ProcessEnv;
}

const FLOW_TIMEOUT = { timeout: 60_000 };
/** Sign-in attempts a person gets at the terminal before the command gives up. */
const PASSWORD_TRIES = 3;

/** An `AuthError` from the data a machine keeps in context. */
function errorFrom(data: AuthErrorData | null, fallback = 'The sign-in did not finish.'): AuthError {
  return data
    ? new AuthError(data.kind, {
        message: data.message,
        ...(data.status ? { status: data.status } : {}),
        ...(data.retryAfterMs !== undefined ? { retryAfterMs: data.retryAfterMs } : {}),
      })
    : new AuthError('signed_out', { message: fallback });
}

/**
 * Watches an actor's children for failures, so that a network error can be reported with its host and,
 * under --debug, its cause (the machine keeps only `{ kind, message }`).
 */
function failureWatch(trace?: (event: InspectionEvent) => void) {
  let last: { actor: string; error: AuthError } | undefined;
  return {
    inspect(event: InspectionEvent) {
      trace?.(event);
      if (event.type !== '@xstate.event') return;
      const match = /^xstate\.error\.actor\.(.+)$/.exec(event.event.type);
      if (match) last = { actor: match[1]!, error: toAuthError((event.event as { error?: unknown }).error) };
    },
    /** The failure's full error (with its cause) when the machine's `kind` is the same. */
    explain(data: AuthErrorData | null): { actor?: string; error: AuthError } {
      if (last && data && last.error.kind === data.kind) return last;
      return { error: errorFrom(data) };
    },
  };
}

/** Why a flow ended, as the error to throw, with the host it was talking to. */
class FlowError extends Error {
  constructor(
    readonly error: AuthError,
    readonly host: string | undefined,
  ) {
    super(error.message);
  }
}

async function ask(
  interactive: boolean,
  given: string | undefined,
  question: () => Promise<string | symbol>,
  name: string,
  flag: string,
) {
  if (given) return given;
  if (!interactive) throw new CliError(`No ${name} given: pass ${flag} (or set it in the environment).`);
  const answer = await question();
  if (prompts.isCancel(answer)) throw new AuthError('aborted', { message: 'Cancelled.' });
  return answer as string;
}

/** The user name (whatever the provider calls it) and the password, from the options or asked for. */
async function askCredentials(
  options: LoginOptions,
  given: string | undefined,
  name: 'email' | 'username',
  label: string,
  password: string | undefined,
  previous?: string,
) {
  const user = await ask(
    options.interactive,
    given,
    () =>
      prompts.text({
        message: label,
        ...(previous ? { initialValue: previous } : {}),
        validate: (v) => (v?.trim() ? undefined : `Type the ${name}.`),
      }),
    name,
    name === 'email' ? '--email (MARKETIGER_EMAIL)' : '--username (MRKTER_USERNAME)',
  );
  const secret = await ask(
    options.interactive,
    password,
    () => prompts.password({ message: 'Password', validate: (v) => (v ? undefined : 'Type the password.') }),
    'password',
    'AUTHCHARTS_PASSWORD',
  );
  return { user: user.trim(), password: secret };
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
  let running = false;
  return {
    start: (m: string) => {
      running = true;
      s.start(m);
    },
    stop: (m: string) => {
      if (running) s.stop(m);
      running = false;
    },
  };
}

/** Stores the session and says where; never prints a secret. */
async function storeSession(
  options: LoginOptions,
  meta: SessionMeta,
  context: CoordinatedContext,
): Promise<void> {
  const store = openStore(options.env);
  try {
    const key = await store.save(meta, {
      accessToken: context.accessToken ?? '',
      refreshToken: context.refreshToken,
      accessTokenExpiresAt: context.accessTokenExpiresAt,
      refreshTokenExpiresAt: context.refreshTokenExpiresAt ?? null,
      issuedAt: Date.now(),
      clockSkewMs: context.clockSkewMs,
      ...(context.accountId !== undefined ? { accountId: context.accountId } : {}),
      ...(context.sessionId !== undefined ? { sessionId: context.sessionId } : {}),
    });
    console.log(pc.dim(`  stored in      ${store.coordinator.fileOf(key)} (readable by you only)`));
  } finally {
    store.close();
  }
}

/** Runs a login flow, reporting its failure with the host it concerns; resolves with the exit code. */
async function reported(options: LoginOptions, flow: () => Promise<void>): Promise<number> {
  try {
    await flow();
    return EXIT.ok;
  } catch (error) {
    if (error instanceof FlowError) {
      return reportFailure(error.error, { ...hostOption(error.host), debug: Boolean(options.debug) });
    }
    throw error;
  }
}

function hostOption(host: string | undefined): { host?: string } {
  return host ? { host } : {};
}

/** Signs in to Marketiger and stores the session; resolves with the exit code. */
export function loginMarketiger(options: LoginOptions): Promise<number> {
  return reported(options, async () => {
    const urls = urlsFor('marketiger', options) as Extract<ProviderUrls, { provider: 'marketiger' }>;
    const watch = failureWatch(
      options.debug ? traceTransitions({ label: 'marketiger', write: (l) => console.error(l) }) : undefined,
    );
    const { api, actor } = marketigerSession(
      { baseURL: urls.baseURL, ...(options.debug ? { logger: debugLogger } : {}) },
      options.projectId ? { projectId: options.projectId } : {},
      watch.inspect,
    );
    actor.start();
    const spin = spinner(options.interactive);
    try {
      let given = { email: options.email, password: options.password };
      let previous: string | undefined;
      for (let attempt = 1; ; attempt++) {
        const credentials = await askCredentials(
          options,
          given.email,
          'email',
          'Email',
          given.password,
          previous,
        );
        spin.start(`Signing in to ${api.baseURL}`);
        actor.send({ type: 'auth.login', email: credentials.user, password: credentials.password });
        const done = await waitFor(
          actor,
          (s) => s.matches('signedIn') || s.matches('signedOut'),
          FLOW_TIMEOUT,
        );
        spin.stop(done.matches('signedIn') ? describeState(done.value) : 'Not signed in');
        if (done.matches('signedIn')) {
          printOutcome({
            provider: 'Marketiger',
            accessToken: done.context.accessToken,
            refreshToken: done.context.refreshToken,
            expiresAt: done.context.accessTokenExpiresAt,
          });
          await storeSession(
            options,
            {
              provider: 'marketiger',
              profile: options.profile ?? DEFAULT_PROFILE,
              urls,
              user: credentials.user,
              signedInAt: new Date().toISOString(),
            },
            done.context,
          );
          return;
        }
        const failure = watch.explain(done.context.error);
        if (!retryPassword(options, failure.error, attempt)) {
          throw new FlowError(failure.error, hostOf(urls.baseURL));
        }
        // Ask again, the email typed before pre-filled.
        given = { email: undefined, password: undefined };
        previous = credentials.user;
      }
    } finally {
      actor.stop();
    }
  });
}

/** True when a wrong password may be typed again: at a terminal, within the tries. */
function retryPassword(options: LoginOptions, error: AuthError, attempt: number): boolean {
  if (!options.interactive || error.kind !== 'invalid_credentials') return false;
  const left = PASSWORD_TRIES - attempt;
  if (left <= 0) return false;
  prompts.log.warn(`${error.message} ${left} ${left === 1 ? 'try' : 'tries'} left.`);
  return true;
}

/** Signs in to Mrkter (password, identity, SMS code) and stores the session; resolves with the exit code. */
export function loginMrkter(options: LoginOptions): Promise<number> {
  return reported(options, async () => {
    const urls = urlsFor('mrkter', options) as Extract<ProviderUrls, { provider: 'mrkter' }>;
    const watch = failureWatch(
      options.debug ? traceTransitions({ label: 'mrkter', write: (l) => console.error(l) }) : undefined,
    );
    const { api, actor } = mrkterSession(
      {
        authBaseURL: urls.authBaseURL,
        apiBaseURL: urls.apiBaseURL,
        ...(options.debug ? { logger: debugLogger } : {}),
      },
      options.resendCooldown !== undefined ? { resendCooldownMs: options.resendCooldown * 1000 } : {},
      watch.inspect,
    );
    actor.start();
    const spin = spinner(options.interactive);
    type Snapshot = ReturnType<typeof actor.getSnapshot>;
    const settle = (states: string[]) =>
      waitFor(
        actor,
        (s) => states.some((state) => s.matches(state as never)),
        FLOW_TIMEOUT,
      ) as Promise<Snapshot>;
    /** The failure of the flow, with the host of the step that failed (Auth0 for the password and refresh). */
    const fail = (snapshot: Snapshot) => {
      const failure = watch.explain(snapshot.context.error);
      const onAuth = failure.actor === 'login' || failure.actor === 'refreshTokens';
      return new FlowError(failure.error, hostOf(onAuth ? urls.authBaseURL : urls.apiBaseURL));
    };
    let user = '';
    try {
      let snapshot: Snapshot;
      let given = { username: options.username, password: options.password };
      let previous: string | undefined;
      for (let attempt = 1; ; attempt++) {
        const credentials = await askCredentials(
          options,
          given.username,
          'username',
          'Username (email)',
          given.password,
          previous,
        );
        user = credentials.user;
        spin.start(`Signing in at ${api.authBaseURL}`);
        actor.send({ type: 'auth.login', username: credentials.user, password: credentials.password });
        snapshot = await settle(['selectingIdentity', 'awaitingCode', 'signedOut']);
        spin.stop(snapshot.matches('signedOut') ? 'Not signed in' : describeState(snapshot.value));
        if (!snapshot.matches('signedOut')) break;
        const failure = fail(snapshot);
        if (!retryPassword(options, failure.error, attempt)) throw failure;
        given = { username: undefined, password: undefined };
        previous = credentials.user;
      }
      const codes = { sent: 0 };
      while (!snapshot.matches('signedIn')) {
        if (snapshot.matches('signedOut') || snapshot.matches('sessionExpired')) throw fail(snapshot);
        if (snapshot.matches('selectingIdentity')) {
          if (snapshot.context.error) warn(options, describeIdentityRefusal(snapshot.context));
          const accountId = await pickIdentity(options, snapshot.context.identities);
          spin.start('Sending the SMS code');
          actor.send({ type: 'identity.select', accountId });
          snapshot = await settle(['awaitingCode', 'selectingIdentity', 'signedOut']);
          spin.stop(describeState(snapshot.value));
          if (snapshot.matches('selectingIdentity') && !options.interactive) {
            throw new CliError(describeIdentityRefusal(snapshot.context));
          }
          if (snapshot.matches('awaitingCode')) codes.sent++;
          continue;
        }
        if (snapshot.matches('awaitingCode')) {
          const { error } = snapshot.context;
          if (error?.kind === 'invalid_code') {
            const left = snapshot.context.maxCodeAttempts - snapshot.context.codeAttempts;
            warn(options, `That code is not right. ${left} ${left === 1 ? 'attempt' : 'attempts'} left.`);
          } else if (error) {
            warn(options, describeCodeProblem(error));
          }
          const code = await askCode(options, actor, snapshot.context.phoneNumber);
          if (code === 'resend') {
            spin.start('Sending a new code');
            actor.send({ type: 'code.resend' });
            snapshot = await settle(['awaitingCode', 'selectingIdentity', 'signedOut']);
            spin.stop(describeState(snapshot.value));
            if (snapshot.matches('awaitingCode') && !snapshot.context.error) {
              codes.sent++;
              info(options, `A new code was sent to ${maskPhone(snapshot.context.phoneNumber)}.`);
            }
            continue;
          }
          spin.start('Checking the code');
          actor.send({ type: 'code.submit', code });
          options = { ...options, code: undefined }; // a given code is tried once; never resubmitted
          snapshot = await settle(['awaitingCode', 'signedIn', 'signedOut', 'selectingIdentity']);
          spin.stop(describeState(snapshot.value));
          if (!options.interactive && snapshot.matches('awaitingCode')) throw fail(snapshot);
        }
      }
      const { context } = snapshot;
      const identity = context.identities.find((i) => String(i.accountId) === String(context.accountId));
      printOutcome({
        provider: `Mrkter (account ${context.accountId}${identity?.companyName ? `, ${identity.companyName}` : ''})`,
        accessToken: context.accessToken,
        refreshToken: context.refreshToken,
        expiresAt: context.accessTokenExpiresAt,
        sessionId: context.sessionId,
      });
      await storeSession(
        options,
        {
          provider: 'mrkter',
          profile: options.profile ?? DEFAULT_PROFILE,
          urls,
          user,
          ...(context.accountId !== null
            ? { account: { accountId: context.accountId, companyName: identity?.companyName ?? null } }
            : {}),
          signedInAt: new Date().toISOString(),
        },
        context,
      );
    } finally {
      actor.stop();
    }
  });
}

function warn(options: LoginOptions, message: string) {
  if (options.interactive) prompts.log.warn(message);
  else console.error(pc.yellow(`  ${message}`));
}

function info(options: LoginOptions, message: string) {
  if (options.interactive) prompts.log.info(message);
  else console.error(`  ${message}`);
}

/** Why an identity cannot be used, in words: an inactive one is inactive, not "no permission". */
export function identityReason(identity: MrkterIdentity): string | null {
  const problem = identityProblem(identity);
  if (problem === 'no_phone_number') return 'no verified phone number';
  if (problem === 'no_permission') return `inactive (status ${identity.status ?? 'unknown'})`;
  return null;
}

function identityLabel(identity: MrkterIdentity): string {
  return `${identity.companyName ?? 'Account'} (${identity.accountId})`;
}

/** The machine refused an identity (`identity.select` stays in `selectingIdentity` with an error): why, in words. */
function describeIdentityRefusal(context: {
  identities: readonly MrkterIdentity[];
  accountId: number | string | null;
  error: AuthErrorData | null;
}): string {
  const { error } = context;
  if (error?.kind === 'no_phone_number' || error?.kind === 'no_permission') {
    const refused = context.identities.filter((i) => identityProblem(i) === error.kind);
    const reasons = refused.map((i) => `${identityLabel(i)}: ${identityReason(i)}`);
    return `That identity cannot be used (${reasons.join('; ')}). Choose another.`;
  }
  return error?.message ?? 'That identity cannot be used.';
}

function describeCodeProblem(error: AuthErrorData): string {
  if (error.kind === 'rate_limited' && error.retryAfterMs !== undefined) {
    return `Too many codes asked for: wait ${Math.ceil(error.retryAfterMs / 1000)} s before asking again.`;
  }
  return error.message;
}

async function pickIdentity(options: LoginOptions, identities: readonly MrkterIdentity[]) {
  if (options.accountId) {
    const match = identities.find((i) => String(i.accountId) === options.accountId);
    if (!match) {
      throw new CliError(
        `No identity ${options.accountId}: this user has ${identities.map(identityLabel).join(', ')}.`,
      );
    }
    const reason = identityReason(match);
    if (reason) throw new CliError(`Identity ${identityLabel(match)} cannot be used: ${reason}.`);
    options.accountId = undefined; // chosen once; a refusal asks (or fails), never loops
    return match.accountId;
  }
  if (!options.interactive) {
    const usable = identities.filter((i) => identityReason(i) === null).map(identityLabel);
    throw new CliError(
      `Several identities (${usable.join(', ') || 'none usable'}): pass --account-id (or MRKTER_ACCOUNT_ID).`,
    );
  }
  const choice = await prompts.select({
    message: 'Which identity?',
    options: identities.map((i) => {
      const reason = identityReason(i);
      return {
        value: String(i.accountId),
        label: identityLabel(i),
        hint: reason ? `unavailable: ${reason}` : `SMS to ${maskPhone(i.verifiedPhoneNumber ?? null)}`,
        disabled: reason !== null,
      };
    }),
  });
  if (prompts.isCancel(choice)) throw new AuthError('aborted', { message: 'Cancelled.' });
  return identities.find((i) => String(i.accountId) === choice)?.accountId ?? choice;
}

/** The seconds until `resend` is accepted (0: now). */
function resendIn(actor: AnyActorRef): number {
  const snapshot = actor.getSnapshot();
  if (snapshot.matches({ awaitingCode: 'resendReady' })) return 0;
  const at = (snapshot.context as { resendAvailableAt: number | null }).resendAvailableAt;
  return Math.max(1, Math.ceil(((at ?? Date.now()) - Date.now()) / 1000));
}

async function askCode(options: LoginOptions, actor: AnyActorRef, phone: string | null): Promise<string> {
  if (options.code) return options.code;
  if (!options.interactive) return readLine();
  const wait = resendIn(actor);
  const answer = await prompts.text({
    message: `Code sent by SMS to ${maskPhone(phone)} (type "resend" for a new one${wait ? `, in ${wait} s` : ''})`,
    validate: (value) => {
      const typed = (value ?? '').trim();
      if (typed === 'resend') {
        const left = resendIn(actor);
        return left ? `A new code can be sent in ${left} s.` : undefined;
      }
      return /^\S+$/.test(typed) ? undefined : 'Type the code.';
    },
  });
  if (prompts.isCancel(answer)) throw new AuthError('aborted', { message: 'Cancelled.' });
  return answer.trim();
}

/** The last four digits of a phone number: enough to recognise it, not enough to dial it. */
function maskPhone(phone: string | null): string {
  return phone ? `…${phone.slice(-4)}` : 'the verified phone';
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
