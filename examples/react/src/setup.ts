/**
 * The page's services, made once at start-up from the query string, so the same build can be pointed
 * at simulators on any port (`npm run simulate` prints their URLs) or at real servers:
 *
 *   index.html?marketiger=http://127.0.0.1:5001/v2&mrkterAuth=http://127.0.0.1:5002&mrkterApi=http://127.0.0.1:5003
 *
 * Optional: `projectId` (Marketiger's project check), `resendCooldownMs` (Mrkter), `timeoutMs` (the
 * services' deadline per request), `coordinate=1` and `persist=1` (below).
 *
 * Made outside React on purpose: `machine.provide()` is called with them inside `useMemo`, and a new
 * api object on every render would mean a new machine on every render.
 */
import {
  type AuthErrorData,
  createBrowserCoordinator,
  createMarketigerApi,
  createMrkterApi,
  type MarketigerApi,
  type MarketigerInput,
  type MrkterApi,
  type MrkterInput,
  type SessionCoordinator,
  toAuthError,
} from 'authcharts';

/** A service, or why there is none: a missing query parameter, or a URL the factory refused. */
export type Service<Api> = { api: Api } | { missing: string } | { error: AuthErrorData };

export interface PageSetup {
  marketiger: Service<MarketigerApi>;
  mrkter: Service<MrkterApi>;
  /** `?projectId=`: sign-in also checks that the account may use this project (`checkingProject`). */
  marketigerInput: MarketigerInput;
  /** `?resendCooldownMs=` shortens the SMS resend wait (the machine's default is 30 s). */
  mrkterInput: MrkterInput;
  /**
   * `?coordinate=1`: the Marketiger session is shared by every tab of this page (Web Locks and a
   * BroadcastChannel): one refresh for all tabs, a new tab starts signed in, a sign-out signs out all.
   * With `&storage=local` it is kept in `localStorage` too, and survives a reload. A browser without
   * what that needs (an insecure context has no Web Locks) keeps one session per tab: the console says so.
   */
  coordinator: SessionCoordinator | null;
  /**
   * `?persist=1`: the Mrkter session is saved in this tab's `sessionStorage` and restored on reload
   * with XState's own idiom, `useMachine(machine, { snapshot })`: its timers are re-armed by the
   * machine itself (no `restoreActor`, no `auth.resume`).
   */
  persistMrkter: boolean;
}

export function setupFromQuery(search: string): PageSetup {
  const params = new URLSearchParams(search);
  const marketiger = params.get('marketiger');
  const mrkterAuth = params.get('mrkterAuth');
  const mrkterApi = params.get('mrkterApi');
  const cooldown = Number(params.get('resendCooldownMs') ?? Number.NaN);
  const projectId = params.get('projectId');
  // `?timeoutMs=`: the services' deadline for one request (their default is 15 s).
  const timeoutMs = Number(params.get('timeoutMs') ?? Number.NaN);
  const deadline = Number.isFinite(timeoutMs) && timeoutMs > 0 ? { timeoutMs } : {};
  return {
    marketiger:
      marketiger === null
        ? { missing: 'marketiger' }
        : attempt(() => createMarketigerApi({ baseURL: marketiger, ...deadline })),
    mrkter:
      mrkterAuth === null || mrkterApi === null
        ? { missing: 'mrkterAuth and mrkterApi' }
        : attempt(() => createMrkterApi({ authBaseURL: mrkterAuth, apiBaseURL: mrkterApi, ...deadline })),
    marketigerInput: projectId ? { projectId } : {},
    mrkterInput: Number.isFinite(cooldown) && cooldown >= 0 ? { resendCooldownMs: cooldown } : {},
    coordinator:
      params.get('coordinate') === '1'
        ? createBrowserCoordinator({
            ...(params.get('storage') === 'local' ? { storage: localStorage } : {}),
            logger: (entry) => console.warn(`authcharts: ${entry.message}`),
          })
        : null,
    persistMrkter: params.get('persist') === '1',
  };
}

/** The factories throw an `AuthError` (`insecure_url`: http is for loopback only) for a bad base URL. */
function attempt<Api>(create: () => Api): Service<Api> {
  try {
    return { api: create() };
  } catch (error) {
    return { error: toAuthError(error).toData() };
  }
}
