/**
 * The service contracts, kept at this path for the modules that import them from here. Their home is
 * `src/types.ts`, which machines, services and the client share.
 */
export type { CallOptions, MarketigerApi, MrkterApi, MrkterIdentity, TokenSet } from '../types.js';
