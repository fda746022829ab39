export type { ProviderOptions, ResolvedProvider, ResolveProvider } from '../config/provider.js';
export type {
  AfterCallbackContext,
  AuthOptions,
  AuthorizationParams,
  ResponseMode,
  Routes,
} from '../config/signin.js';
export type { ClientAssertionSigningKey, ClientAuthMethod, ClientSecret } from '../protocol/client-auth.js';
export type { FetchLike } from '../protocol/http.js';
export type { ClientCertificateOptions, TlsClientAuthMethod } from '../protocol/mtls/client-certificate.js';
export { auth } from './auth.js';
export type { AccessToken, RequestContext, ResponseContext, SignedInFetchInit } from './context-types.js';
export { type GuardSessionStoreOptions, guardSessionStore } from './guard-session-store.js';
export type { LoginOptions } from './login.js';
export type { LogoutOptions } from './logout.js';
export type { RefreshLock } from './refresh.js';
export { type RequiresAuthOptions, requiresAuth } from './requires-auth.js';
export { attemptSilentLogin } from './silent-login.js';
export { type ThrottleTouchOptions, throttleTouch } from './throttle-touch.js';
export type { TokenSet } from './token-set.js';
