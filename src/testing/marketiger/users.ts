/** The accounts the Marketiger simulator knows: their shape, and the demo account. */

/** A Marketiger account the simulator knows. */
export interface MarketigerSimUser {
  email: string;
  password: string;
  /** Ids of the projects Marketiger assigned to the account (default none). */
  projects?: string[];
}

/**
 * The account a simulator started without `users` knows; exported so a demo or README can print it.
 *
 * @example
 * ```ts
 * const sim = await startMarketigerSimulator();
 * await api.login({ email: MARKETIGER_DEMO_USER.email, password: MARKETIGER_DEMO_USER.password });
 * ```
 */
export const MARKETIGER_DEMO_USER: Readonly<Required<MarketigerSimUser>> = Object.freeze({
  email: 'demo@marketiger.test',
  password: 'demo-password',
  projects: ['demo-project'],
});
