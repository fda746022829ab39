/**
 * RFC 8693 token exchange for the test IdP, as a real deployment adds it to oidc-provider (which
 * has no built-in token-exchange grant): `provider.registerGrantType()` with a handler built from
 * oidc-provider's own pieces (its DPoP proof validation and replay check, its AccessToken model and
 * JWT format), plugged in through `startIdp({ extend })`.
 *
 * Policy, as a resource-server-to-resource-server deployment would have it:
 * - `subject_token` must be an access token (`subject_token_type` access_token) that this IdP
 *   issued: a JWT with `typ: at+jwt`, verified against the IdP's current signing keys, unexpired;
 * - `may_act` in the subject token, if present, must name the exchanging client (RFC 8693 §4.4);
 * - the new token is for the one `resource` (or `audience`) asked for: a JWT access token with the
 *   subject's `sub`, `act: { sub: <client> }` nesting any earlier `act` (RFC 8693 §4.1: delegation),
 *   the subject's scope (narrowed by `scope` if asked), and bound to the DPoP key when the request
 *   carries a proof;
 * - `actor_token` is not supported (the exchanging client is the actor).
 *
 * Clients listed in `clients` may use the grant: their static metadata in idp.ts lists only
 * client_credentials, so the check is widened here rather than in idp.ts.
 */
import * as jose from 'jose';
import { errors, type Provider } from 'oidc-provider';
import type { TestIdp } from './idp.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'requested_token_type',
  'actor_token',
  'actor_token_type',
  'audience',
  'resource',
  'scope',
];

interface DpopResult {
  thumbprint: string;
  jti: string;
  iat: number;
}

/**
 * oidc-provider's DPoP helpers, the ones its own grants use. Not part of its typed API, hence the
 * loose import and the signatures written out here.
 */
interface DpopHelpers {
  default: (provider: Provider, ctx: unknown) => Promise<DpopResult | undefined>;
  checkDpopReplay: (provider: Provider, ctx: unknown, dPoP: DpopResult, clientId: string) => Promise<void>;
}
const DPOP_HELPERS = 'oidc-provider/lib/helpers/validate_dpop.js';
const dpopHelpers = import(DPOP_HELPERS) as Promise<DpopHelpers>;

/** The `act` claim of each exchanged token, until it is formatted (idp.ts's extraTokenClaims reads it). */
const actClaims = new WeakMap<object, unknown>();

function publicKeys(idp: TestIdp): jose.JSONWebKeySet {
  return {
    keys: idp.signingKeys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub),
  };
}

async function verifySubjectToken(idp: TestIdp, token: string): Promise<jose.JWTPayload> {
  try {
    const { payload } = await jose.jwtVerify(token, jose.createLocalJWKSet(publicKeys(idp)), {
      issuer: idp.issuer,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      requiredClaims: ['sub', 'exp'],
    });
    return payload;
  } catch {
    throw new errors.InvalidGrant('subject_token is not a valid access token of this issuer');
  }
}

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new errors.InvalidRequest(`only one ${name} is supported`);
  return value;
}

export interface TokenExchangeGrantOptions {
  /** Clients that may exchange tokens. */
  clients: readonly string[];
}

/** Register the grant on `provider` (call it from `startIdp({ extend })`). */
export function registerTokenExchangeGrant(
  provider: Provider,
  idp: TestIdp,
  { clients }: TokenExchangeGrantOptions,
): void {
  const allowed = provider.Client.prototype.grantTypeAllowed;
  provider.Client.prototype.grantTypeAllowed = function grantTypeAllowed(type: string) {
    return (type === TOKEN_EXCHANGE_GRANT && clients.includes(this.clientId)) || allowed.call(this, type);
  };

  idp.settings.extraTokenClaims = (_ctx, token) => {
    const act = actClaims.get(token);
    return act === undefined ? undefined : { act };
  };

  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (ctx) => {
      const { params, client } = ctx.oidc;
      const p = params as Record<string, unknown>;
      if (p.subject_token_type !== ACCESS_TOKEN_TYPE) {
        throw new errors.InvalidRequest('subject_token_type must be an access token');
      }
      if (p.requested_token_type !== undefined && p.requested_token_type !== ACCESS_TOKEN_TYPE) {
        throw new errors.InvalidRequest('only access tokens are issued');
      }
      if (p.actor_token !== undefined) throw new errors.InvalidRequest('actor_token is not supported');
      const target = single(p.resource, 'resource') ?? single(p.audience, 'audience');
      if (target === undefined || !URL.canParse(target)) {
        throw new errors.InvalidTarget('a resource or audience (an absolute URI) is required');
      }

      const subject = await verifySubjectToken(idp, String(p.subject_token));
      const mayAct = subject.may_act as { sub?: unknown; client_id?: unknown } | undefined;
      if (mayAct !== undefined && mayAct.sub !== client.clientId && mayAct.client_id !== client.clientId) {
        throw new errors.InvalidGrant('the client may not act for this subject');
      }

      const { default: validateDpop, checkDpopReplay } = await dpopHelpers;
      const dPoP = await validateDpop(provider, ctx);

      const held = new Set(
        String(subject.scope ?? '')
          .split(' ')
          .filter(Boolean),
      );
      const asked = single(p.scope, 'scope')?.split(' ');
      const scope = (asked ?? [...held]).filter((s) => held.has(s)).join(' ') || undefined;

      const token = new provider.AccessToken({
        client,
        accountId: String(subject.sub),
        grantId: `token-exchange-${String(subject.jti ?? '')}`,
        gty: 'token_exchange',
        scope,
      });
      // RFC 8693 §4.1: the client acts for the subject; an earlier actor stays nested inside.
      actClaims.set(
        token,
        subject.act === undefined ? { sub: client.clientId } : { sub: client.clientId, act: subject.act },
      );
      token.resourceServer = new provider.ResourceServer(target, {
        scope: scope ?? '',
        audience: target,
        accessTokenTTL: idp.settings.accessTokenTTL,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      });
      if (dPoP !== undefined) {
        await checkDpopReplay(provider, ctx, dPoP, client.clientId);
        token.setThumbprint('jkt', dPoP.thumbprint);
      }
      ctx.oidc.entity('AccessToken', token);
      const value = await token.save();
      ctx.body = {
        access_token: value,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: dPoP === undefined ? 'Bearer' : 'DPoP',
        expires_in: token.expiration,
        ...(scope === undefined ? {} : { scope }),
      };
    },
    PARAMETERS,
  );
}
