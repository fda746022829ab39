/**
 * docs/errors.md, generated: every `code` of `PortcullisErrorCode`, once, with its status, when it
 * happens and what to do. The table is typed against the union, so a new code does not compile
 * until it is documented here; `npm run docs` writes the page and a test fails when it is stale.
 */
import type { PortcullisErrorCode } from '../lib/errors.js';

interface ErrorDoc {
  readonly status: string;
  readonly from: string;
  readonly when: string;
  readonly todo: string;
}

export const ERRORS = {
  ERR_IDP_UNAVAILABLE: {
    status: '503',
    from: 'all',
    when: "The IdP (its discovery document, keys, token or introspection endpoint) could not be reached, timed out, or answered 5xx or 429. `err.retryAfter` says when to try again (the IdP's `Retry-After` when it sent one).",
    todo: 'Nothing in code: the app recovers by itself when the IdP answers. Show a "try again" page; check the IdP\'s status and `httpTimeout`.',
  },
  ERR_DISCOVERY_FAILED: {
    status: '503',
    from: 'all',
    when: "The IdP's discovery document could not be read or breaks a rule (the message names the URL, the status or the field).",
    todo: 'Check `issuerBaseURL`: open `<issuerBaseURL>/.well-known/openid-configuration` in a browser; its `issuer` must equal `issuerBaseURL`.',
  },
  ERR_OAUTH_RESPONSE: {
    status: '400 / 502',
    from: 'sign-in',
    when: 'The token endpoint refused a request: `invalid_grant` (400: the code or refresh token is used, expired or for another client), `invalid_client` (502).',
    todo: "`err.error` and `err.error_description` hold the IdP's words. For `invalid_client`, check the client ID, secret or key and the method registered at the IdP (see `clientAuthMethod`).",
  },
  ERR_BAD_REQUEST: {
    status: '400',
    from: 'sign-in',
    when: "A request to one of auth()'s routes is malformed: bad `authorizationParams` for one login, or a back-channel logout without exactly one valid logout token.",
    todo: 'Fix the caller; for back-channel logout, the message names the rule the logout token broke.',
  },
  ERR_BODY_TOO_LARGE: {
    status: '413',
    from: 'sign-in',
    when: 'A form_post callback or back-channel logout body is larger than an IdP ever sends.',
    todo: 'Nothing: it is junk or an attack.',
  },
  ERR_SESSION_MISSING: {
    status: '500',
    from: 'sign-in',
    when: 'express-session is not mounted before `auth()`; or `auth()` is not mounted before `requiresAuth()` or a route that reads `req.oidc` / `res.oidc` (an API with `bearer()` alone has no `req.oidc`).',
    todo: 'Mount `app.use(session({ ... }))`, then `app.use(auth({ ... }))`, then the routes; an API reads `req.auth`.',
  },
  ERR_SESSION_STORE: {
    status: '503',
    from: 'sign-in',
    when: 'The session store failed or stalled (with `guardSessionStore()`).',
    todo: 'Check the store (Redis); users get a clear "try again" meanwhile.',
  },
  ERR_STATE_MISSING: {
    status: '400',
    from: 'sign-in',
    when: 'A callback, or a return from logout at the IdP, has no `state`.',
    todo: 'Someone opened the callback URL by hand, or the IdP dropped `state`: start again from the login page.',
  },
  ERR_STATE_MISMATCH: {
    status: '400',
    from: 'sign-in',
    when: "The `state` was not issued to this browser: the login started in another browser, its cookie was lost, it was used already or it expired (15 minutes). The message tells a callback that came with no sign-in cookie at all (cookies blocked, a client that does not send `Secure` cookies over http://localhost, another host name than at `/login`) from one whose cookies are other logins'.",
    todo: "The user starts again from the login page. Many at once: check that `baseURL` is the URL users open (cookies are per host). A script must send `Secure` cookies back over http://localhost as browsers do (curl does; Python's `http.cookiejar` does not).",
  },
  ERR_ISSUER_MISMATCH: {
    status: '400',
    from: 'sign-in',
    when: "A mix-up (RFC 9700 §4.4): the callback's `iss` (RFC 9207) is not the issuer the login was started with, or, with several providers, the callback arrived at another provider's callback path or its ID token is another provider's. Also a misconfigured IdP.",
    todo: "Check that `issuerBaseURL` is the IdP the client is registered at, and that each provider's redirect URI registered at its IdP is its own (`baseURL` + `routes.callback` + `/<id>`).",
  },
  ERR_UNKNOWN_PROVIDER: {
    status: '400 / 404',
    from: 'sign-in',
    when: 'With several providers: `?provider=` (or `res.oidc.login({ provider })`) names none of them, or names none and there is no `defaultProvider` (400); `resolveProvider` returned nothing for this request (404), or a provider with another id than the one asked for.',
    todo: "Link to `/login?provider=<id>` with a configured id, or set `defaultProvider`. For 404: the request's host, path or tenant is not one your resolver knows.",
  },
  ERR_AUTHORIZATION_RESPONSE: {
    status: '400 / 403',
    from: 'sign-in',
    when: 'The IdP answered the login with an error (`access_denied` is 403); `err.error` holds it.',
    todo: 'Show the user a page; `login_required` and `consent_required` mean the user must sign in or consent at the IdP.',
  },
  ERR_CALLBACK_INVALID: {
    status: '400',
    from: 'sign-in',
    when: 'The callback is malformed: a parameter twice, an unreadable body, or a login whose DPoP key is gone.',
    todo: 'The user starts again from the login page.',
  },
  ERR_JARM_INVALID: {
    status: '400',
    from: 'sign-in',
    when: "The callback's JWT response (JARM: `response_mode` `jwt`, `query.jwt` or `form_post.jwt`) failed a check before any parameter in it was used: its signature against the IdP's keys, its `alg` (asymmetric, one the IdP advertises), `iss`, `aud` or `exp`; or it is not a JWT, or it is encrypted. The message names the check.",
    todo: 'A forged or replayed answer, or a misconfigured IdP: the user starts again from the login page. If it repeats, check the IdP signs JWT responses for this client with a key in its JWKS, and the clocks.',
  },
  ERR_JARM_MISSING: {
    status: '400',
    from: 'sign-in',
    when: 'The login asked for a JWT response (JARM) but the callback carried plain parameters (`code`, `state`, `error`): refused, since plain parameters are not signed by the IdP (no downgrade). The message shows the plain `error`, if any, as unverified.',
    todo: 'If the IdP does not support JARM, remove the `.jwt` `response_mode`; otherwise someone tampered with the answer: the user starts again.',
  },
  ERR_IDP_INCOMPATIBLE: {
    status: '500',
    from: 'sign-in, service agent',
    when: "The IdP's metadata and this app's settings do not fit. JAR and JARM: it requires signed request objects (`require_signed_request_object`) and there is no `clientAssertionSigningKey`; it accepts request objects only with other algorithms than the key's; it says it takes no request objects; or it does not list the JWT `response_mode` asked for. With `profile: 'fapi2'`, at the first login (sign-in) or token request (service agent): no `pushed_authorization_request_endpoint`, no S256 in `code_challenge_methods_supported`, the client's authentication method or algorithm not listed, no `dpop_signing_alg_values_supported` with the proofs' algorithm, or no ID token algorithm among PS256, ES256 and EdDSA (the message names the rule, its section and the metadata field).",
    todo: 'The message names the option to set (a `clientAssertionSigningKey` registered at the IdP, another key type, another `response_mode`) or, for the profile, what to turn on at the IdP (or register the client for); or use an IdP that supports it. See docs/fapi2.md.',
  },
  ERR_ID_TOKEN_INVALID: {
    status: '400',
    from: 'sign-in',
    when: 'A check of the ID token failed (signature, `iss`, `aud`, `exp`, `nonce`, `at_hash`...); the message names it.',
    todo: 'Usually a clock or configuration issue: check `clockTolerance`, `clientID` and `idTokenSigningAlg`.',
  },
  ERR_LOGIN_REFUSED: {
    status: '403',
    from: 'sign-in',
    when: 'Your `afterCallback` threw.',
    todo: 'Render your own "not allowed" page for this code.',
  },
  ERR_NOT_AUTHENTICATED: {
    status: '401',
    from: 'sign-in',
    when: '`refresh()`, `fetchUserInfo()` or `req.oidc.fetch()` without a signed-in user.',
    todo: 'Put the route behind `requiresAuth()`.',
  },
  ERR_NO_REFRESH_TOKEN: {
    status: '400',
    from: 'sign-in',
    when: '`refresh()` but the IdP issued no refresh token.',
    todo: 'Ask for `offline_access` in `authorizationParams.scope` (some IdPs also need `prompt: consent`, Google `access_type: offline`).',
  },
  ERR_REFRESH_FAILED: {
    status: '401',
    from: 'sign-in',
    when: 'The IdP refused the refresh token (revoked, expired, rotated elsewhere); the user is signed out.',
    todo: 'Send the user to log in again.',
  },
  ERR_USERINFO_FAILED: {
    status: '502',
    from: 'sign-in',
    when: 'The userinfo endpoint refused the access token, answered garbage, or for another `sub`.',
    todo: 'The message names the URL and status; check that the access token is for the userinfo endpoint (not only an API `audience`).',
  },
  ERR_STEP_UP_FAILED: {
    status: '403',
    from: 'sign-in',
    when: '`requiresAuth({ acrValues, maxAge })`: the new login still falls short of what the route needs.',
    todo: 'Tell the user which authentication the page needs; the IdP could not provide it.',
  },
  ERR_INVALID_REQUEST: {
    status: '400',
    from: 'API',
    when: 'RFC 6750 `invalid_request`: a malformed `Authorization` header, an unknown scheme, or a token sent in two places.',
    todo: 'Fix the client: send exactly one `Authorization: Bearer <token>`.',
  },
  ERR_INVALID_TOKEN: {
    status: '401',
    from: 'API',
    when: 'RFC 6750 `invalid_token`, or no token at all (a challenge without `error`). The operator sees why through the `logger` (at `info`): the claim, what was expected and what was received.',
    todo: 'The client gets a new token. Many refusals: read the log; `typ` from Keycloak, Entra ID, Okta or Auth0 needs `allowJWTTyp`.',
  },
  ERR_INSUFFICIENT_SCOPE: {
    status: '403',
    from: 'API',
    when: 'RFC 6750 `insufficient_scope`: the token lacks a scope the route needs (`scope=` in the challenge lists them).',
    todo: 'The client asks the IdP for those scopes.',
  },
  ERR_INSUFFICIENT_USER_AUTHENTICATION: {
    status: '401',
    from: 'API',
    when: "RFC 9470: the token's `acr` or `auth_time` falls short of `requireAcr()`.",
    todo: 'The client sends the user back to the IdP with the `acr_values` / `max_age` of the challenge.',
  },
  ERR_INVALID_DPOP_PROOF: {
    status: '401',
    from: 'API',
    when: 'RFC 9449 `invalid_dpop_proof`: the `DPoP` proof is missing, doubled, malformed or failed a check (`htu`, `htm`, `iat`, `ath`, `jti`, `cnf.jkt`).',
    todo: 'Often `baseURL` differs from the URL clients call (`htu`); behind a gateway include its path prefix.',
  },
  ERR_USE_DPOP_NONCE: {
    status: '401',
    from: 'API',
    when: 'RFC 9449 `use_dpop_nonce`: the proof needs the server nonce sent in `DPoP-Nonce`.',
    todo: "Nothing: clients retry with the nonce (portcullis's agent does). Browsers need `DPoP-Nonce` in CORS `exposedHeaders`.",
  },
  ERR_TOKEN_REQUEST_FAILED: {
    status: '502 / 500',
    from: 'service',
    when: 'The IdP refused the client-credentials or token-exchange request (`err.error`, `err.error_description`), or the `clientSecret` function failed.',
    todo: "For `invalid_client`, check `SERVICE_CLIENT_ID`, the secret or key and the registered method (`clientAuthMethod: 'client_secret_post'` for IdPs that do not decode Basic credentials).",
  },
  ERR_DPOP_NOT_BOUND: {
    status: '502',
    from: 'sign-in, service',
    when: '`dpop` is on but the IdP issued a Bearer token (it does not support DPoP, or ignored the proof).',
    todo: 'Turn DPoP on at the IdP for this client, or `dpop` off here.',
  },
  ERR_DPOP_PROOF_FAILED: {
    status: '500',
    from: 'sign-in, service',
    when: 'A DPoP proof could not be signed with the configured key.',
    todo: 'Check the `dpop.key` (`SERVICE_DPOP_KEY`): a private EC, Ed25519 or RSA key.',
  },
} as const satisfies Record<PortcullisErrorCode, ErrorDoc>;

const cell = (text: string): string => text.replace(/\|/g, '\\|');

export function errorsReference(): string {
  const rows = (Object.entries(ERRORS) as Array<[PortcullisErrorCode, ErrorDoc]>).map(
    ([code, doc]) => `| \`${code}\` | ${doc.status} | ${doc.from} | ${cell(doc.when)} | ${cell(doc.todo)} |`,
  );
  return `${[
    '<!-- Generated by `npm run docs` from scripts/errors-reference.ts, typed against PortcullisErrorCode. Do not edit by hand. -->',
    '# Errors reference',
    '',
    'Every error portcullis throws or passes to `next()` is a `PortcullisError` (or a subclass) with a stable',
    '`code`, an HTTP `status`, and a message that says what happened; none holds a token, secret or code',
    'verifier. Match on `err.code`, not `instanceof`: a code survives two copies of the package in one app.',
    "Errors about the IdP name the URL called and the status it answered, and carry the IdP's `error` and",
    '`error_description`. `bearer()` answers its own refusals (RFC 6750) and never calls `next(err)` for them.',
    '',
    '| Code | Status | From | When | What to do |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n')}\n`;
}
