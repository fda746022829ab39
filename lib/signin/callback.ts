/**
 * The callback, as the named steps of OpenID Connect Core §3.1.2.7 and §3.1.3.7, in order:
 *
 *   readCallbackParams  query (GET) or form_post body (POST)
 *   openJwtResponse     JARM: a `response` JWT checked (signature, alg, iss, aud, exp) with the callback
 *                       path's provider before anything in it is read; its parameters are the callback's
 *   takePendingLogin    `state` present, known, unused, and started by this browser; then deleted
 *                       (a client that sent back no sign-in cookie at all is told so: unbound-login.ts)
 *   checkProviderPath   several providers: the answer arrived at the callback path of the provider
 *                       the login was started with (RFC 9700 §4.4.2.2, distinct redirect URIs), so
 *                       an IdP without RFC 9207 cannot have its code sent to another provider; else
 *                       ERR_ISSUER_MISMATCH, before the code goes anywhere
 *   checkResponseMode   a login that asked for a JWT response got one (ERR_JARM_MISSING: no downgrade)
 *   loginProvider       that provider, and only it (resolveProvider: asked again for it by id)
 *   exchangeCode        RFC 9207 `iss` (another provider's: ERR_ISSUER_MISMATCH), IdP error, code +
 *                       PKCE verifier at that provider's token endpoint, ID token claims (oauth4webapi;
 *                       an `iss` that is another provider's: ERR_ISSUER_MISMATCH; a templated issuer's
 *                       tenant: allowedTenants), signature and `at_hash` (ours)
 *   silentRefusal       a silent login (prompt=none) the IdP answered `login_required` or the like:
 *                       back to `returnTo`, signed out, no error (silent-login.ts)
 *   mergeUserInfo       with the option: userinfo for the same `sub` (Core §5.3.2), kept beside
 *   runAfterCallback    the app's hook may map claims or refuse the user
 *   startSession        new session id (no fixation), token set and provider stored server-side;
 *                       a silent login may be tried again once this session is over
 *   redirect            to the pending login's `returnTo`
 */
import type { Request, Response } from 'express';
import type { DPoPHandle } from 'oauth4webapi';
import { type OAuthResponseError, PortcullisError } from '../errors.js';
import { shown } from '../protocol/bearer-refusal.js';
import { inSpan, type SpanHandle } from '../protocol/observability/spans.js';
import { withRefusal } from '../protocol/oidc-refusal.js';
import { indexSession } from './backchannel-logout.js';
import { readFormBody } from './body.js';
import { checkResponseMode, openJwtResponse } from './jwt-response.js';
import { redirect } from './respond.js';
import type { ProviderRuntime, SigninRuntime } from './runtime.js';
import { regenerateSession, saveSession } from './session.js';
import { isSilentRefusal, resumeSilentLogin } from './silent-login.js';
import { providerFields, refused, type Told } from './telemetry.js';
import { storedTokens, type TokenSet, tokenSetFrom } from './token-set.js';
import type { PendingLogin } from './transaction.js';
import { unboundLoginError } from './unbound-login.js';

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
  if (taken.found === 'another-browser' || taken.found === 'no-cookie') {
    throw unboundLoginError(rt, taken.record, taken.found === 'another-browser');
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

/** Several providers: the answer must come back at the path of the provider the login went to. */
function checkProviderPath(rt: SigninRuntime, login: PendingLogin, pathProvider: string | undefined): void {
  if (!rt.providers.multi) return;
  const expected = login.provider ?? 'default';
  if (pathProvider === expected) return;
  const where =
    pathProvider === undefined
      ? rt.config.routes.callback
      : `the callback path of provider ${JSON.stringify(pathProvider.slice(0, 64))}`;
  const error = new PortcullisError(
    'ERR_ISSUER_MISMATCH',
    `this login was started with provider "${expected}", but the answer arrived at ${where}: a mix-up (RFC 9700 §4.4), refused before the code was sent anywhere. If this is your own setup, register ${rt.config.routes.callback}/${expected} as that IdP's redirect URI`,
    { status: 400 },
  );
  throw withRefusal(error, { reason: 'mix_up', expected, received: shown(pathProvider) });
}

/** The provider the login was started with; `resolveProvider` is asked for it again. */
async function loginProvider(rt: SigninRuntime, req: Request, login: PendingLogin): Promise<ProviderRuntime> {
  const provider = await rt.providers.named(req, login.provider ?? 'default');
  if (provider === undefined) {
    throw new PortcullisError(
      'ERR_UNKNOWN_PROVIDER',
      'the provider this login was started with is not one of this app any more: start again',
      { status: rt.config.providers.kind === 'resolved' ? 404 : 400 },
    );
  }
  return provider;
}

async function startSession(
  rt: SigninRuntime,
  req: Request,
  tokens: TokenSet,
  login: PendingLogin,
  provider: ProviderRuntime,
): Promise<void> {
  await regenerateSession(req);
  const now = Date.now();
  req.session.portcullis = {
    tokens: storedTokens(tokens),
    provider: provider.config.id,
    createdAt: now,
    ...(login.stepUp ? { stepUp: { returnTo: login.returnTo, at: now } } : {}),
    ...(login.dpopKey !== undefined ? { dpopKey: login.dpopKey } : {}),
  };
  await saveSession(req);
  if (rt.config.backchannelLogout) {
    const scope = rt.providers.multi ? provider.config.id : undefined;
    await indexSession(req.sessionStore, scope, tokens.claims, req.sessionID, rt.config.absoluteDuration);
  }
}

/**
 * Some IdPs (Okta, Entra ID without optional claims, oidc-provider) put no profile claims in the ID
 * token when an access token is issued too: read them from userinfo once, at login. A userinfo answer
 * about another `sub` fails the login (oauth4webapi checks it).
 */
async function mergeUserInfo(
  provider: ProviderRuntime,
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
  tokens.userinfo = { ...(await provider.client.userinfo(tokens.access_token, String(sub), dpop)) };
}

/** The login's DPoP handle; with `dpop` on, a login started without a key is not finished unbound. */
async function loginDpopHandle(
  rt: SigninRuntime,
  provider: ProviderRuntime,
  login: PendingLogin,
): Promise<DPoPHandle | undefined> {
  if (login.dpopKey === undefined && !provider.config.dpop) return undefined;
  const handle = await rt.dpopKeys.handle(login.dpopKey);
  if (handle === undefined) {
    throw new PortcullisError('ERR_CALLBACK_INVALID', 'this login has no usable DPoP key; log in again', {
      status: 400,
    });
  }
  return handle;
}

/**
 * `pathProvider`: with several providers, the provider id of the callback path the answer came to.
 * In its span, with the IdP calls as children; `signin.login.completed` or `.failed` with the reason.
 */
export function handleCallback(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  pathProvider?: string,
): Promise<void> {
  return inSpan('portcullis.signin.callback', {}, async (span) => {
    const started = performance.now();
    const told: Told = { fields: {} };
    try {
      await finishLogin(rt, req, res, pathProvider, told, span);
    } catch (err) {
      const durationMs = performance.now() - started;
      rt.emit({ type: 'signin.login.failed', ...told.fields, ...refused(err, span), durationMs });
      throw err;
    }
  });
}

async function finishLogin(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  pathProvider: string | undefined,
  told: Told,
  span: SpanHandle | undefined,
): Promise<void> {
  const received = await readCallbackParams(req);
  const { params, jwt } = await openJwtResponse(rt, req, received, pathProvider);
  const { state, login } = await takePendingLogin(rt, req, res, params);
  if (login === undefined) {
    // Back button after login, a double submit, or an expired login: nothing to finish. Send the
    // user somewhere useful rather than to an error page; no session is created.
    redirect(res, '/');
    return;
  }
  checkProviderPath(rt, login, pathProvider);
  checkResponseMode(login, jwt, params);
  const provider = await loginProvider(rt, req, login);
  told.fields = providerFields(provider, span);
  const dpop = await loginDpopHandle(rt, provider, login);
  const self = provider.config.id;
  const exchanged = await provider.client
    .exchangeCode(params, {
      state,
      nonce: login.nonce,
      codeVerifier: login.codeVerifier,
      maxAge: login.maxAge,
      dpop,
      issuerOwner: rt.providers.multi ? (iss) => rt.providers.issuerOwner(iss, self) : undefined,
    })
    .catch((err: unknown) => {
      if (!isSilentRefusal(login, err)) throw err;
      rt.emit({ type: 'signin.login.declined', ...told.fields, error: (err as OAuthResponseError).error });
      return undefined;
    });
  if (exchanged === undefined) {
    // A silent login the IdP could not finish without the user: back to the page, signed out.
    redirect(res, login.returnTo);
    return;
  }
  const { response, idToken, claims } = exchanged;
  const tokenSet = tokenSetFrom(response, idToken, claims);
  if (provider.config.mergeUserInfo) await mergeUserInfo(provider, tokenSet, dpop);
  const tokens = await runAfterCallback(rt, req, res, tokenSet, login.returnTo);
  if (res.headersSent) return; // the hook answered by itself
  await startSession(rt, req, tokens, login, provider);
  resumeSilentLogin(rt, req, res);
  redirect(res, login.returnTo);
  const durationMs = login.startedAt === undefined ? undefined : Date.now() - login.startedAt;
  rt.emit({ type: 'signin.login.completed', ...told.fields, sub: String(tokens.claims['sub']), durationMs });
}
