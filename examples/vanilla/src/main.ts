/**
 * The Mrkter flow in plain DOM: the machine needs no framework. One actor, one subscription that
 * renders its snapshot, and forms that send it events. Every decision (which step, when resend is
 * allowed, what happens after a wrong code) is the statechart's; this file only draws it.
 */
import {
  type AuthErrorData,
  createAuthorizedAxios,
  createMrkterApi,
  identityProblem,
  type MrkterIdentity,
  mrkterActors,
  mrkterMachine,
  toAuthError,
} from 'authcharts';
import { createActor, type SnapshotFrom } from 'xstate';
import { h, maskPhone, spinner } from './dom.js';
import { describeError } from './errorMessages.js';
import './styles.css';

type Snapshot = SnapshotFrom<typeof mrkterMachine>;

const app = document.getElementById('app');
if (!app) throw new Error('index.html has no #app element');

// The servers come from the query string (?mrkterAuth=…&mrkterApi=…): `npm run simulate` prints them.
const params = new URLSearchParams(window.location.search);
const authBaseURL = params.get('mrkterAuth');
const apiBaseURL = params.get('mrkterApi');
const cooldown = Number(params.get('resendCooldownMs') ?? Number.NaN);

if (authBaseURL === null || apiBaseURL === null) {
  app.replaceChildren(
    h(
      'p',
      { className: 'hint' },
      'Open this page with ?mrkterAuth=…&mrkterApi=… (npm run simulate prints them).',
    ),
  );
} else {
  try {
    start(authBaseURL, apiBaseURL, app);
  } catch (error) {
    // createMrkterApi refuses a non-https URL that is not loopback (insecure_url).
    app.replaceChildren(errorNote(toAuthError(error).toData()));
  }
}

function start(authBaseURL: string, apiBaseURL: string, root: HTMLElement) {
  const api = createMrkterApi({ authBaseURL, apiBaseURL });
  const actor = createActor(mrkterMachine.provide({ actors: mrkterActors(api) }), {
    input: Number.isFinite(cooldown) && cooldown >= 0 ? { resendCooldownMs: cooldown } : {},
  });
  const http = createAuthorizedAxios(actor, { baseURL: api.apiBaseURL });
  const send = actor.send.bind(actor);

  /**
   * A screen is rebuilt only when its key changes (another step, a new error), so typing is not lost
   * on every snapshot; `update` refreshes the small live parts (the resend button, a busy hint).
   */
  let shown: { key: string; update?: ((snapshot: Snapshot) => void) | undefined } | null = null;

  function render(snapshot: Snapshot) {
    const key = screenKey(snapshot);
    if (shown?.key !== key) {
      const screen = buildScreen(snapshot);
      root.replaceChildren(screen.element);
      shown = { key, update: screen.update };
    }
    shown.update?.(snapshot);
  }

  function buildScreen(snapshot: Snapshot): { element: HTMLElement; update?: (s: Snapshot) => void } {
    const { context } = snapshot;
    if (snapshot.matches('signedIn')) return signedInScreen();
    if (snapshot.matches('selectingIdentity')) {
      return {
        element: h('div', {}, identityPicker(context.identities), errorNote(context.error), cancelButton()),
      };
    }
    if (snapshot.matches('awaitingCode')) return codeScreen(snapshot);
    if (snapshot.matches('requestingCode') || snapshot.matches('verifyingCode')) {
      return { element: h('div', { className: 'row' }, spinner(busyLabel(snapshot)), cancelButton()) };
    }
    return loginScreen();
  }

  /**
   * signedOut and sessionExpired, and the busy sign-in steps: one form that stays while the machine
   * works, so after a wrong password the username is still there.
   */
  function loginScreen() {
    const username = h('input', {
      name: 'username',
      type: 'email',
      autocomplete: 'username',
      required: true,
    });
    const password = h('input', {
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    });
    const error = h('div', {});
    const fields = h(
      'fieldset',
      {},
      h('label', {}, 'Username', username),
      h('label', {}, 'Password', password),
      error,
      h('button', { type: 'submit' }, 'Continue'),
    );
    const busy = h('div', { className: 'row' });
    const element = h(
      'form',
      {
        onsubmit: (event) => {
          event.preventDefault();
          // The password goes straight into the event; the machine never keeps it in context.
          send({ type: 'auth.login', username: username.value, password: password.value });
        },
      },
      fields,
      busy,
    );
    const update = (s: Snapshot) => {
      const working = s.hasTag('busy');
      fields.disabled = working;
      error.replaceChildren(working ? '' : errorNote(s.context.error));
      busy.replaceChildren(...(working ? [spinner(busyLabel(s)), cancelButton()] : []));
    };
    return { element, update };
  }

  function identityPicker(identities: MrkterIdentity[]): HTMLElement {
    const items = identities.map((identity) => {
      const reason = whyUnavailable(identity);
      return h(
        'li',
        { dataset: { accountId: String(identity.accountId) } },
        h(
          'button',
          {
            type: 'button',
            disabled: reason !== null,
            onclick: () => send({ type: 'identity.select', accountId: identity.accountId }),
          },
          h('strong', {}, identity.companyName ?? `Account ${identity.accountId}`),
          h(
            'span',
            {},
            `${identity.accountType ?? 'account'} · #${identity.accountId} · SMS to ${maskPhone(identity.verifiedPhoneNumber)}`,
          ),
          reason && h('em', { className: 'unavailable' }, `Unavailable: ${reason}`),
        ),
      );
    });
    return h(
      'fieldset',
      {},
      h('legend', {}, 'Choose an account'),
      h('ul', { className: 'identities' }, ...items),
    );
  }

  function codeScreen(snapshot: Snapshot) {
    const { context } = snapshot;
    const code = h('input', {
      name: 'code',
      inputMode: 'numeric',
      autocomplete: 'one-time-code',
      pattern: '[0-9]*',
      maxLength: 8,
      required: true,
    });
    const resend = h('button', {
      type: 'button',
      className: 'secondary',
      onclick: () => send({ type: 'code.resend' }),
    });
    const extra =
      context.error?.kind === 'invalid_code'
        ? ` ${context.maxCodeAttempts - context.codeAttempts} attempt(s) left.`
        : '';
    const element = h(
      'div',
      {},
      h(
        'form',
        {
          onsubmit: (event) => {
            event.preventDefault();
            send({ type: 'code.submit', code: code.value.trim() });
          },
        },
        h('p', {}, `We sent a code by SMS to ${maskPhone(context.phoneNumber)}.`),
        h('label', {}, 'Code', code),
        h(
          'div',
          { className: 'row' },
          h('button', { type: 'submit' }, 'Verify'),
          resend,
          context.identities.length > 1 &&
            h(
              'button',
              { type: 'button', className: 'secondary', onclick: () => send({ type: 'identity.change' }) },
              'Use another account',
            ),
        ),
      ),
      errorNote(context.error, extra),
      cancelButton(),
    );
    // Live: `resendReady` is the machine's say; the seconds are counted from resendAvailableAt.
    const update = (s: Snapshot) => {
      const ready = s.matches({ awaitingCode: 'resendReady' });
      const seconds = Math.max(
        0,
        Math.ceil(((s.context.resendAvailableAt ?? Date.now()) - Date.now()) / 1000),
      );
      resend.disabled = !ready;
      resend.textContent = ready ? 'Resend code' : `Resend code in ${seconds} s`;
    };
    return { element, update };
  }

  function signedInScreen() {
    const result = h('div', {}, spinner('Loading the account…'));
    const refreshing = h('div', {});
    // Authorization, x-account-id and x-session-id are added by the authorized client.
    http.get<Record<string, unknown>>('/accounts/current').then(
      ({ data }) => {
        const rows = (['companyName', 'accountId', 'accountType', 'currency', 'status'] as const).flatMap(
          (field) => [h('dt', {}, labels[field]), h('dd', {}, String(data[field] ?? '—'))],
        );
        result.replaceChildren(h('dl', { dataset: { testid: 'account' } }, ...rows));
      },
      (error: unknown) => result.replaceChildren(errorNote(toAuthError(error).toData())),
    );
    const element = h(
      'section',
      { ariaLabel: 'Signed in' },
      h('h3', {}, 'Signed in'),
      result,
      refreshing,
      h('button', { type: 'button', onclick: () => send({ type: 'auth.logout' }) }, 'Sign out'),
    );
    const update = (s: Snapshot) =>
      refreshing.replaceChildren(s.hasTag('busy') ? spinner('Refreshing the session…') : '');
    return { element, update };
  }

  function cancelButton(): HTMLElement {
    return h(
      'button',
      { type: 'button', className: 'secondary', onclick: () => send({ type: 'auth.logout' }) },
      'Cancel',
    );
  }

  actor.subscribe(render);
  actor.start();
  render(actor.getSnapshot());
  // The resend countdown moves every second even when the machine does not.
  setInterval(() => render(actor.getSnapshot()), 1_000);
}

const labels = {
  companyName: 'Company',
  accountId: 'Account',
  accountType: 'Type',
  currency: 'Currency',
  status: 'Status',
} as const;

const busyLabels: Record<string, string> = {
  authenticating: 'Signing in…',
  loadingIdentities: 'Loading your accounts…',
  requestingCode: 'Sending a code…',
  verifyingCode: 'Checking the code…',
};

function busyLabel(snapshot: Snapshot): string {
  return (typeof snapshot.value === 'string' && busyLabels[snapshot.value]) || 'Working…';
}

/** Which screen a snapshot shows: a new key means a new screen (another step, or a new error). */
function screenKey(snapshot: Snapshot): string {
  const { context } = snapshot;
  const error = `${context.error?.kind ?? ''}:${context.codeAttempts}`;
  if (snapshot.matches('signedIn')) return 'signedIn';
  if (snapshot.matches('selectingIdentity')) return `identities:${error}`;
  if (snapshot.matches('awaitingCode')) return `code:${error}`;
  if (snapshot.matches('requestingCode') || snapshot.matches('verifyingCode')) return String(snapshot.value);
  // The login form updates its error and busy parts in place.
  return 'login';
}

/** Why an identity cannot be chosen, or null: the machine's own rule, said up front to spare a failed click. */
function whyUnavailable(identity: MrkterIdentity): string | null {
  const problem = identityProblem(identity);
  if (problem === 'no_phone_number') return 'no verified phone number';
  if (problem === 'no_permission') return `account is ${String(identity.status ?? 'unknown').toLowerCase()}`;
  return null;
}

/** The error as a sentence for people (nothing when there is none); `data-kind` tells kinds apart. */
function errorNote(error: AuthErrorData | null, extra = ''): HTMLElement | string {
  if (!error) return '';
  return h(
    'p',
    { className: 'error', role: 'alert', dataset: { kind: error.kind } },
    describeError(error) + extra,
  );
}
