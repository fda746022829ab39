/**
 * The callback, as the named steps of OpenID Connect Core §3.1.2.7 and §3.1.3.7, in order:
 *
 *   readCallbackParams  query (GET) or form_post body (POST)
 *   takePendingLogin    `state` present, known, unused, and started by this browser; then deleted
 *   exchangeCode        RFC 9207 `iss`, IdP error, code + PKCE verifier at the token endpoint,
 *                       ID token claims (oauth4webapi), signature and `at_hash` (ours)
 *   mergeUserInfo       with the option: userinfo for the same `sub` (Core §5.3.2), kept beside
 *   runAfterCallback    the app's hook may map claims or refuse the user
 *   startSession        new session id (no fixation), token set stored server-side
 *   redirect            to the pending login's `returnTo`
 */
import type { Request, Response } from 'express';
import type { DPoPHandle } from 'oauth4webapi';
import { PortcullisError } from '../errors.js';
import { indexSession } from './backchannel-logout.js';
import { readFormBody } from './body.js';
import { redirect } from './respond.js';
import type { SigninRuntime } from './runtime.js';
import { regenerateSession, saveSession } from './session.js';
import { type TokenSet, tokenSetFrom } from './token-set.js';
import type { PendingLogin } from './transaction.js';

const MAX_STATE_LENGTH = 512;

async function readCallbackParams(req: Request): Promise<URLSearchParams> {
  if (req.method === 'POST') return readFormBody(req);
  const url = req.originalUrl ?? req.url;
  const query = url.indexOf('?');
  return new URLSearchParams(query === -1 ? '' : url.slice(query + 1));
}

function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) {
    throw new PortcullisError('ERR_CALLBACK_INVALID', `the callback has more than one "${name}"`, {
      status: 400,
    });
  }
  return values[0];
}

async function takePendingLogin(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  params: URLSearchParams,
): Promise<{ state: string; login: PendingLogin | undefined }> {
  const state = single(params, 'state');
  if (state === undefined || state === '') {
    throw new PortcullisError('ERR_STATE_MISSING', 'the callback has no "state"', { status: 400 });
  }
  if (state.length > MAX_STATE_LENGTH) {
    throw new PortcullisError('ERR_STATE_MISMATCH', 'the callback\'s "state" is not one we issued', {
      status: 400,
    });
  }
  for (const name of ['code', 'iss', 'error']) single(params, name);
  const taken = await rt.transactions.take(req.sessionStore, req, res, state);
  if (taken.found === 'another-browser') {
    const host = taken.record.startedAtHost;
    const base = rt.config.baseURL.origin;
    throw new PortcullisError(
      'ERR_STATE_MISMATCH',
      host === undefined
        ? 'this sign-in was started in another browser, or this browser lost its sign-in cookie: start again from the login page'
        : `this sign-in was started at host "${host}", but the app's baseURL is ${base}, and the browser keeps cookies per host: open the app at ${base} (or set baseURL to the address users open), then sign in again`,
      { status: 400 },
    );
  }
  return { state, login: taken.found === 'record' ? taken.record : undefined };
}

async function runAfterCallback(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  tokens: TokenSet,
  returnTo: string,
): Promise<TokenSet> {
  const hook = rt.config.afterCallback;
  if (hook === undefined) return tokens;
  try {
    const result = await hook(req, res, tokens, { claims: tokens.claims, returnTo });
    return result ?? tokens;
  } catch (err) {
    if (err instanceof PortcullisError) throw err;
    throw new PortcullisError('ERR_LOGIN_REFUSED', 'the app refused this login', {
      status: 403,
      cause: err instanceof Error ? { name: err.name, message: err.message } : undefined,
    });
  }
}

async function startSession(
  rt: SigninRuntime,
  req: Request,
  tokens: TokenSet,
  login: PendingLogin,
): Promise<void> {
  await regenerateSession(req);
  const now = Date.now();
  req.session.portcullis = {
    tokens,
    createdAt: now,
    ...(login.stepUp ? { stepUp: { returnTo: login.returnTo, at: now } } : {}),
    ...(login.dpopKey !== undefined ? { dpopKey: login.dpopKey } : {}),
  };
  await saveSession(req);
  if (rt.config.backchannelLogout) {
    await indexSession(req.sessionStore, tokens.claims, req.sessionID, rt.config.absoluteDuration);
  }
}

/**
 * Some IdPs (Okta, Entra ID without optional claims, oidc-provider) put no profile claims in the ID
 * token when an access token is issued too: read them from userinfo once, at login. A userinfo answer
 * about another `sub` fails the login (oauth4webapi checks it).
 */
async function mergeUserInfo(
  rt: SigninRuntime,
  tokens: TokenSet,
  dpop: DPoPHandle | undefined,
): Promise<void> {
  if (tokens.access_token === undefined) {
    throw new PortcullisError(
      'ERR_USERINFO_FAILED',
      'mergeUserInfo: the IdP issued no access token to read userinfo with; ask for one or turn mergeUserInfo off',
      { status: 502 },
    );
  }
  const sub = tokens.claims['sub'];
  tokens.userinfo = { ...(await rt.client.userinfo(tokens.access_token, String(sub), dpop)) };
}

/** The login's DPoP handle; with `dpop` on, a login started without a key is not finished unbound. */
async function loginDpopHandle(rt: SigninRuntime, login: PendingLogin): Promise<DPoPHandle | undefined> {
  if (login.dpopKey === undefined && !rt.config.dpop) return undefined;
  const handle = await rt.client.dpopKeys.handle(login.dpopKey);
  if (handle === undefined) {
    throw new PortcullisError('ERR_CALLBACK_INVALID', 'this login has no usable DPoP key; log in again', {
      status: 400,
    });
  }
  return handle;
}

export async function handleCallback(rt: SigninRuntime, req: Request, res: Response): Promise<void> {
  const params = await readCallbackParams(req);
  const { state, login } = await takePendingLogin(rt, req, res, params);
  if (login === undefined) {
    // Back button after login, a double submit, or an expired login: nothing to finish. Send the
    // user somewhere useful rather than to an error page; no session is created.
    redirect(res, '/');
    return;
  }
  const dpop = await loginDpopHandle(rt, login);
  const { response, idToken, claims } = await rt.client.exchangeCode(params, {
    state,
    nonce: login.nonce,
    codeVerifier: login.codeVerifier,
    maxAge: login.maxAge,
    dpop,
  });
  const tokenSet = tokenSetFrom(response, idToken, claims);
  if (rt.config.mergeUserInfo) await mergeUserInfo(rt, tokenSet, dpop);
  const tokens = await runAfterCallback(rt, req, res, tokenSet, login.returnTo);
  if (res.headersSent) return; // the hook answered by itself
  await startSession(rt, req, tokens, login);
  redirect(res, login.returnTo);
}
