/**
 * OpenID Connect Back-Channel Logout 1.0 for auth(): the IdP POSTs a logout token; the sessions it
 * names (by `sid`, else by `sub`) are destroyed in the session store, whichever process created them.
 * An index `sid|sub → session ids`, written at login, lives in the same store; each `jti` is
 * remembered until the token expires, so a replayed logout token is refused. As named steps:
 *
 *   readLogoutToken   exactly one `logout_token`
 *   logoutProvider    several providers: the one whose path it came to (routes.backchannelLogout/<id>;
 *                     resolveProvider asked for it by id), and only it
 *   validate          signature, `iss`, `aud`, `events`, ... against that provider (logout-token.ts)
 *   checkReplay       its `jti`, per provider
 *   endSessions       the sessions that provider's index names: the same `sub` at another provider
 *                     is another user, whose sessions are left alone
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Store } from 'express-session';
import { PortcullisError } from '../errors.js';
import { inSpan, type SpanHandle } from '../protocol/observability/spans.js';
import { withRefusal } from '../protocol/oidc-refusal.js';
import { readFormBody } from './body.js';
import { sendJson } from './respond.js';
import type { ProviderRuntime, SigninRuntime } from './runtime.js';
import { storeDestroy, storeGet, storeSet } from './store.js';
import { providerFields, refused, type Told } from './telemetry.js';

const INDEX = 'portcullisIndex';
const JTI = 'portcullisLogoutJti';
/** A user signed in on more devices than this has the oldest ones left to their own expiry. */
const MAX_SESSIONS_PER_KEY = 50;

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');
/** The index keys of a login; `scope` is its provider's id with several providers (none for one IdP). */
const indexKeys = (scope: string | undefined, claims: Record<string, unknown>): string[] => {
  const prefix = scope === undefined ? 'portcullis-idx:' : `portcullis-idx:${scope}:`;
  const keys: string[] = [];
  if (typeof claims['sid'] === 'string') keys.push(`${prefix}sid:${hash(claims['sid'])}`);
  if (typeof claims['sub'] === 'string') keys.push(`${prefix}sub:${hash(claims['sub'])}`);
  return keys;
};

/** At login: remember which session belongs to this IdP session (`sid`) and user (`sub`). */
export async function indexSession(
  store: Store,
  scope: string | undefined,
  claims: Record<string, unknown>,
  sessionID: string,
  ttlSeconds: number,
): Promise<void> {
  for (const key of indexKeys(scope, claims)) {
    const ids = (await storeGet<string[]>(store, key, INDEX)) ?? [];
    if (!ids.includes(sessionID)) ids.push(sessionID);
    await storeSet(store, key, INDEX, ids.slice(-MAX_SESSIONS_PER_KEY), ttlSeconds);
  }
}

/** The provider a logout token is for: the only one, or the one of the path it came to. */
async function logoutProvider(
  rt: SigninRuntime,
  req: Request,
  pathProvider: string | undefined,
): Promise<ProviderRuntime> {
  const id = rt.providers.multi ? pathProvider : 'default';
  const provider = id === undefined ? undefined : await rt.providers.named(req, id);
  if (provider === undefined) {
    const error = new PortcullisError(
      'ERR_BAD_REQUEST',
      `no provider at this path: each provider's logout tokens go to ${rt.config.routes.backchannelLogout}/<id>`,
      { status: 400 },
    );
    throw withRefusal(error, { reason: 'provider' });
  }
  return provider;
}

/**
 * `pathProvider`: with several providers, the provider id of the path the logout token came to.
 * In its span; `signin.backchannel_logout.completed`, or `.rejected` with the failed check.
 */
export async function handleBackchannelLogout(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  pathProvider?: string,
): Promise<void> {
  res.setHeader('cache-control', 'no-store');
  try {
    await inSpan('portcullis.signin.backchannel_logout', {}, async (span) => {
      const told: Told = { fields: {} };
      try {
        const sessions = await endSessions(rt, req, pathProvider, told, span);
        span?.setAttribute('portcullis.logout.sessions', sessions);
        rt.emit({ type: 'signin.backchannel_logout.completed', ...told.fields, sessions });
      } catch (err) {
        if (refusal(err)) {
          const { status: _status, error: _error, ...why } = refused(err, span);
          rt.emit({ type: 'signin.backchannel_logout.rejected', ...told.fields, ...why });
        }
        throw err;
      }
    });
  } catch (err) {
    if (!refusal(err)) throw err;
    sendJson(res, 400, { error: 'invalid_request', error_description: err.message });
    return;
  }
  res.statusCode = 200;
  res.setHeader('content-length', '0');
  res.end();
}

/** A refused token or request (400), as opposed to a failure of the IdP or the store (thrown on). */
const refusal = (err: unknown): err is PortcullisError => err instanceof PortcullisError && err.status < 500;

/** The steps above, up to the sessions ended: how many. */
async function endSessions(
  rt: SigninRuntime,
  req: Request,
  pathProvider: string | undefined,
  told: Told,
  span: SpanHandle | undefined,
): Promise<number> {
  const body = await readFormBody(req);
  const token = body.get('logout_token');
  if (token === null || token === '' || body.getAll('logout_token').length > 1) {
    throw new PortcullisError('ERR_BAD_REQUEST', 'exactly one "logout_token" is required', { status: 400 });
  }
  const provider = await logoutProvider(rt, req, pathProvider);
  told.fields = providerFields(provider, span);
  const claims = await provider.client.logoutToken(token);
  const scope = rt.providers.multi ? provider.config.id : undefined;
  const store = req.sessionStore;
  const jtiKey = `portcullis-jti:${scope === undefined ? '' : `${scope}:`}${hash(claims.jti)}`;
  if ((await storeGet<boolean>(store, jtiKey, JTI)) !== undefined) {
    const error = new PortcullisError('ERR_BAD_REQUEST', 'logout token: this "jti" was used already', {
      status: 400,
    });
    throw withRefusal(error, { reason: 'replay' });
  }
  const lifetime =
    claims.exp === undefined ? 600 : Math.max(60, claims.exp - Math.floor(Date.now() / 1000) + 60);
  await storeSet(store, jtiKey, JTI, true, lifetime);
  // §2.4: with a sid, only that IdP session's logins end; with only a sub, all of the user's.
  const keys =
    claims.sid !== undefined ? indexKeys(scope, { sid: claims.sid }) : indexKeys(scope, { sub: claims.sub });
  const ended = new Set<string>();
  for (const key of keys) {
    for (const id of (await storeGet<string[]>(store, key, INDEX)) ?? []) {
      await storeDestroy(store, id);
      ended.add(id);
    }
    await storeDestroy(store, key);
  }
  return ended.size;
}
