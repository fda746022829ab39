/**
 * Sign-in with a templated issuer (Entra ID's `/organizations/v2.0`: metadata `issuer`
 * `https://login.microsoftonline.com/{tenantid}/v2.0`): each response is checked against the metadata
 * of the tenant it is about, the template with that tenant's id, once `allowedTenants` has accepted
 * the tenant. The tenant is read from the ID token's `tid` before oauth4webapi and jose check the
 * token; they then hold its `iss` to that tenant's issuer and its signature to the IdP's keys, so a
 * `tid` that lies cannot pass. For any other issuer the metadata is returned as it is.
 */
import * as jose from 'jose';
import { PortcullisError } from '../errors.js';
import type { IssuerMetadata } from './discovery.js';
import {
  type AllowedTenants,
  expectedTenantIssuer,
  isIssuerTemplate,
  isTenantId,
  TENANT_PLACEHOLDER,
  tenantAllowed,
} from './issuer-template.js';
import { withRefusal } from './oidc-refusal.js';

function refused(why: 'tid' | 'tenant_not_allowed' | 'no_allowed_tenants'): PortcullisError {
  if (why === 'tid') {
    const error = new PortcullisError('ERR_ID_TOKEN_INVALID', 'ID token: its "tid" is no tenant id', {
      status: 400,
    });
    return withRefusal(error, { reason: 'tenant' });
  }
  const error = new PortcullisError(
    'ERR_LOGIN_REFUSED',
    why === 'no_allowed_tenants'
      ? 'the IdP\'s issuer is templated ({tenantid}) and "allowedTenants" is not set, so no organisation\'s users may sign in: list the tenants this app serves'
      : "the user's organisation (tenant) is not one this app accepts (allowedTenants)",
    { status: 403 },
  );
  return withRefusal(error, { reason: 'tenant' });
}

/** The metadata for the tenant an ID token (or logout token) is from; `as` itself when not templated. */
export function tenantMetadata(
  as: IssuerMetadata,
  allowed: AllowedTenants | undefined,
  token: string | undefined,
): IssuerMetadata {
  if (!isIssuerTemplate(as.issuer) || token === undefined) return as;
  let claims: jose.JWTPayload;
  try {
    claims = jose.decodeJwt(token);
  } catch {
    throw new PortcullisError('ERR_ID_TOKEN_INVALID', 'ID token: it is not a JWT', { status: 400 });
  }
  const verdict = expectedTenantIssuer(as.issuer, claims, allowed);
  if ('refusal' in verdict) throw refused(verdict.refusal);
  return { ...as, issuer: verdict.issuer };
}

/** The same, for a token endpoint answer (read from a copy, so that oauth4webapi still reads it). */
export async function responseTenantMetadata(
  as: IssuerMetadata,
  allowed: AllowedTenants | undefined,
  response: Response,
): Promise<IssuerMetadata> {
  if (!isIssuerTemplate(as.issuer)) return as;
  const body: unknown = await response
    .clone()
    .json()
    .catch(() => undefined);
  const idToken = (body as { id_token?: unknown } | undefined)?.id_token;
  return tenantMetadata(as, allowed, typeof idToken === 'string' ? idToken : undefined);
}

/**
 * The metadata to check an RFC 9207 `iss` parameter against: for a templated issuer, an `iss` of the
 * template's shape for an allowed tenant stands for that tenant (the ID token must then be its).
 * Anything else leaves `as` as it is, and the `iss` fails oauth4webapi's exact comparison.
 */
export function callbackTenantMetadata(
  as: IssuerMetadata,
  allowed: AllowedTenants | undefined,
  iss: string | null,
): IssuerMetadata {
  if (iss === null || !isIssuerTemplate(as.issuer) || allowed === undefined) return as;
  const at = as.issuer.indexOf(TENANT_PLACEHOLDER);
  const prefix = as.issuer.slice(0, at);
  const suffix = as.issuer.slice(at + TENANT_PLACEHOLDER.length);
  if (!iss.startsWith(prefix) || !iss.endsWith(suffix) || iss.length <= prefix.length + suffix.length)
    return as;
  const tid = iss.slice(prefix.length, iss.length - suffix.length);
  return isTenantId(tid) && tenantAllowed(allowed, tid) ? { ...as, issuer: iss } : as;
}
