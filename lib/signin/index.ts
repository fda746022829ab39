export type { AfterCallbackContext, AuthOptions, AuthorizationParams, Routes } from '../config/signin.js';
export type { ClientAssertionSigningKey, ClientAuthMethod, ClientSecret } from '../protocol/client-auth.js';
export type { FetchLike } from '../protocol/http.js';
export { auth } from './auth.js';
export { type AccessToken, RequestContext, ResponseContext } from './context.js';
export type { LoginOptions } from './login.js';
export type { LogoutOptions } from './logout.js';
export { requiresAuth } from './requires-auth.js';
export type { TokenSet } from './token-set.js';
