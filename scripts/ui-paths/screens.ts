/**
 * What the React example shows in each state, as a person sees it: which controls are on screen (and
 * whether they can be pressed), which busy message spins, and which error is said. The suite checks
 * the screen after every step against this table, besides the flow's `data-state`, so a page that
 * shows the wrong controls for a state fails even when its machine is right.
 *
 * The screen is read as the accessibility tree (`locator.ariaSnapshot()`: roles, names, disabled),
 * what assistive technology and a person see, in one call per check. That tree also holds what was
 * typed into fields, passwords included: it is parsed here and never printed.
 */
import type { Locator } from 'playwright-core';
import type { AuthErrorKind } from '../../src/errors.js';
import type { Provider } from './plan.js';

/** How a control must look: on screen (any), on screen and pressable, or on screen and disabled. */
type Shown = 'shown' | 'enabled' | 'disabled';

interface Screen {
  /** The controls that must be on screen; every other control of the panel must not be. */
  controls: Record<string, Shown>;
  /** The busy message that must spin, if any; every other busy message of the flow must not. */
  busy?: string;
  /** The state says `context.error` on screen (`[role=alert][data-kind]`): exactly the expected kind, or none. */
  showsError?: boolean;
}

/** A control as the accessibility tree names it. */
interface Control {
  role: string;
  name: string | RegExp;
}

interface Panel {
  /** The panel's root. */
  selector: string;
  /** Every control the table speaks of, by the name used in reports. */
  controls: Record<string, Control>;
  /** Every busy message of the flow (a `status`; the data views' own "Loading …" ones are not the flow's). */
  busy: string[];
  screens: Record<string, Screen>;
}

const button = (name: string | RegExp): Control => ({ role: 'button', name });
const field = (name: string): Control => ({ role: 'textbox', name });

/** A signed-in screen: the data view with its reload button, sign-out, and what the session does by itself. */
const signedIn = (reload: string, status: { busy?: string; retry?: boolean } = {}): Screen => ({
  controls: {
    '“Signed in” heading': 'shown',
    [`“${reload}” button`]: 'enabled',
    '“Sign out” button': 'enabled',
    ...(status.retry ? { '“Retry now” button': 'enabled' as const } : {}),
  },
  ...(status.busy ? { busy: status.busy } : {}),
});

const REFRESHING = 'Refreshing the session…';
const signedInControls = {
  '“Signed in” heading': { role: 'heading', name: 'Signed in' },
  '“Sign out” button': button('Sign out'),
  '“Retry now” button': button('Retry now'),
};

export const panels: Record<Provider, Panel> = {
  marketiger: {
    selector: '#marketiger',
    controls: {
      '“Email” field': field('Email'),
      '“Sign in” button': button('Sign in'),
      '“Cancel” button': button('Cancel'),
      '“Reload projects” button': button('Reload projects'),
      ...signedInControls,
    },
    busy: ['Signing in…', 'Checking access to the project…', REFRESHING],
    screens: {
      signedOut: {
        controls: { '“Email” field': 'enabled', '“Sign in” button': 'enabled' },
        showsError: true,
      },
      sessionExpired: {
        controls: { '“Email” field': 'enabled', '“Sign in” button': 'enabled' },
        showsError: true,
      },
      signingIn: {
        controls: {
          '“Email” field': 'disabled',
          '“Sign in” button': 'disabled',
          '“Cancel” button': 'enabled',
        },
        busy: 'Signing in…',
      },
      checkingProject: {
        controls: {
          '“Email” field': 'disabled',
          '“Sign in” button': 'disabled',
          '“Cancel” button': 'enabled',
        },
        busy: 'Checking access to the project…',
      },
      'signedIn.active': signedIn('Reload projects'),
      'signedIn.refreshing': signedIn('Reload projects', { busy: REFRESHING }),
      'signedIn.backingOff': signedIn('Reload projects', { retry: true }),
    },
  },
  mrkter: {
    selector: '#mrkter',
    controls: {
      '“Username” field': field('Username'),
      '“Continue” button': button('Continue'),
      '“Cancel” button': button('Cancel'),
      'account picker': { role: 'group', name: 'Choose an account' },
      '“Code” field': field('Code'),
      '“Verify” button': button('Verify'),
      '“Resend code” button': button(/^Resend code/),
      '“Reload account” button': button('Reload account'),
      ...signedInControls,
    },
    busy: ['Signing in…', 'Loading your accounts…', 'Sending a code…', 'Checking the code…', REFRESHING],
    screens: {
      signedOut: {
        controls: { '“Username” field': 'enabled', '“Continue” button': 'enabled' },
        showsError: true,
      },
      sessionExpired: {
        controls: { '“Username” field': 'enabled', '“Continue” button': 'enabled' },
        showsError: true,
      },
      authenticating: {
        controls: {
          '“Username” field': 'disabled',
          '“Continue” button': 'disabled',
          '“Cancel” button': 'enabled',
        },
        busy: 'Signing in…',
      },
      loadingIdentities: {
        controls: {
          '“Username” field': 'disabled',
          '“Continue” button': 'disabled',
          '“Cancel” button': 'enabled',
        },
        busy: 'Loading your accounts…',
      },
      selectingIdentity: {
        controls: { 'account picker': 'shown', '“Cancel” button': 'enabled' },
        showsError: true,
      },
      requestingCode: { controls: { '“Cancel” button': 'enabled' }, busy: 'Sending a code…' },
      'awaitingCode.coolingDown': {
        controls: {
          '“Code” field': 'enabled',
          '“Verify” button': 'enabled',
          '“Resend code” button': 'disabled',
          '“Cancel” button': 'enabled',
        },
        showsError: true,
      },
      'awaitingCode.resendReady': {
        controls: {
          '“Code” field': 'enabled',
          '“Verify” button': 'enabled',
          '“Resend code” button': 'enabled',
          '“Cancel” button': 'enabled',
        },
        showsError: true,
      },
      verifyingCode: { controls: { '“Cancel” button': 'enabled' }, busy: 'Checking the code…' },
      'signedIn.active': signedIn('Reload account'),
      'signedIn.refreshing': signedIn('Reload account', { busy: REFRESHING }),
      'signedIn.backingOff': signedIn('Reload account', { retry: true }),
    },
  },
};

/** The flow's root inside the panel: it carries `data-state`. */
export const flowOf = (panel: Locator) => panel.locator('[data-state]');

/** One node of an aria snapshot: `- button "Sign in" [disabled]`, `- status: Signing in…`. */
interface AriaNode {
  role: string;
  name: string;
  disabled: boolean;
  text: string;
}

/** The nodes of `locator.ariaSnapshot()`'s YAML, flattened (depth does not matter here). */
function parseAria(snapshot: string): AriaNode[] {
  const nodes: AriaNode[] = [];
  for (const raw of snapshot.split('\n')) {
    let line = raw.trim();
    if (!line.startsWith('- ')) continue;
    line = line.slice(2);
    // A node whose text needs quoting in YAML comes as a single-quoted string, with '' for '.
    if (line.startsWith("'"))
      line = line.replace(
        /^'(.*)'(:?)$/,
        (_, body: string, colon: string) => body.replaceAll("''", "'") + colon,
      );
    const match = /^([\w-]+)(?: "((?:[^"\\]|\\.)*)")?((?: \[[^\]]*\])*)(?::\s?(.*))?$/.exec(line);
    if (!match) continue;
    nodes.push({
      role: match[1]!,
      name: (match[2] ?? '').replace(/\\(.)/g, '$1'),
      disabled: (match[3] ?? '').includes('[disabled]'),
      text: (match[4] ?? '').replace(/^"(.*)"$/, '$1'),
    });
  }
  return nodes;
}

const matches = (node: AriaNode, control: Control) =>
  node.role === control.role &&
  (typeof control.name === 'string' ? node.name === control.name : control.name.test(node.name));

/** What the panel shows: the table's controls found (with whether each is disabled) and the busy messages. */
async function readPanel(provider: Provider, panel: Locator) {
  const spec = panels[provider];
  const nodes = parseAria(await panel.ariaSnapshot());
  const controls = new Map<string, { disabled: boolean }>();
  for (const [name, control] of Object.entries(spec.controls)) {
    const node = nodes.find((candidate) => matches(candidate, control));
    if (node) controls.set(name, { disabled: node.disabled });
  }
  const busy = spec.busy.filter((label) =>
    nodes.some((node) => node.role === 'status' && node.text.trim() === label),
  );
  return { controls, busy };
}

/**
 * What is wrong with the screen for state `name` (expecting `error` said where the state says
 * errors), as sentences for a report; empty when the screen is right.
 */
export async function screenProblems(
  provider: Provider,
  panel: Locator,
  name: string,
  error: AuthErrorKind | null,
): Promise<string[]> {
  const spec = panels[provider];
  const screen = spec.screens[name];
  if (!screen) return [`the suite has no screen for state ${name}`];
  const shown = await readPanel(provider, panel);
  const problems: string[] = [];
  for (const control of Object.keys(spec.controls)) {
    const want = screen.controls[control];
    const found = shown.controls.get(control);
    if (!want) {
      if (found) problems.push(`${control} is shown, but should not be in ${name}`);
    } else if (!found) problems.push(`${control} is missing (should be ${want})`);
    else if (want !== 'shown' && found.disabled !== (want === 'disabled'))
      problems.push(`${control} is ${found.disabled ? 'disabled' : 'enabled'}, should be ${want}`);
  }
  for (const label of spec.busy) {
    const spinning = shown.busy.includes(label);
    if (label === screen.busy && !spinning) problems.push(`the busy message “${label}” is missing`);
    if (label !== screen.busy && spinning)
      problems.push(`the busy message “${label}” is shown, but should not be in ${name}`);
  }
  if (screen.showsError) {
    // The kind is the page's `data-kind`, which the tree does not carry: one more query, in the page.
    const kinds = await flowOf(panel)
      .locator('[role=alert]')
      .evaluateAll((alerts) =>
        alerts
          .filter((alert) => (alert as HTMLElement).offsetParent !== null)
          .map((alert) => alert.getAttribute('data-kind') ?? '(no kind)'),
      );
    const want = error ? [error] : [];
    if (kinds.join() !== want.join()) {
      problems.push(
        want.length
          ? `the error said should be ${error}, the page says ${kinds.length ? kinds.join(', ') : 'none'}`
          : `no error should be said, the page says ${kinds.join(', ')}`,
      );
    }
  }
  return problems;
}

/** What the panel shows, in a few words: its `data-state`, the controls on screen and the busy message. */
export async function describeShown(provider: Provider, panel: Locator): Promise<string> {
  const state =
    (await flowOf(panel)
      .first()
      .getAttribute('data-state', { timeout: 1_000 })
      .catch(() => null)) ?? '(no data-state)';
  const shown = await readPanel(provider, panel);
  const parts = [
    ...[...shown.controls].map(([name, { disabled }]) => (disabled ? `${name} (disabled)` : name)),
    ...shown.busy.map((label) => `“${label}”`),
  ];
  return `${state} (${parts.join(', ') || 'no controls'})`;
}
