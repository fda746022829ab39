/**
 * Templated issuers: Entra ID's multi-tenant endpoints (`/organizations/v2.0`, `/common/v2.0`) publish
 * metadata whose `issuer` is `https://login.microsoftonline.com/{tenantid}/v2.0`, and every tenant's
 * tokens carry their own `iss`, with the tenant's id in it and in the `tid` claim. One set of keys
 * signs for every tenant, so the signature alone says nothing about which organisation a token is
 * from: the expected `iss` is the template with the token's `tid`, and `allowedTenants` decides
 * which `tid`s this app accepts. No list means no tenant at all, never "any": an app that wants
 * every tenant says so with a predicate (`allowedTenants: () => true`).
 *
 * The same rules serve `bearer()` (access tokens) and sign-in (ID tokens, logout tokens).
 */

/** The placeholder in a templated issuer. */
export const TENANT_PLACEHOLDER = '{tenantid}';

/** Which tenants are accepted: a list of tenant ids, or a predicate on the token's `tid`. */
export type AllowedTenants = readonly string[] | ((tid: string) => boolean);

/** A tenant id as Entra ID issues them (a GUID), or a simple name: never a path or a URL. */
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID.test(value);
}

/** True when an issuer (from metadata, or configured) is a template with exactly one placeholder. */
export function isIssuerTemplate(issuer: string): boolean {
  const first = issuer.indexOf(TENANT_PLACEHOLDER);
  return first !== -1 && issuer.indexOf(TENANT_PLACEHOLDER, first + 1) === -1;
}

function split(template: string): [prefix: string, suffix: string] {
  const at = template.indexOf(TENANT_PLACEHOLDER);
  return [template.slice(0, at), template.slice(at + TENANT_PLACEHOLDER.length)];
}

/**
 * Whether the discovery document's templated `issuer` stands for the issuer it was fetched from: the
 * placeholder takes the place of exactly one path segment of the configured URL (`organizations`,
 * `common`), and the rest is identical. Anything looser would let a document name another issuer.
 */
export function templateFitsIssuer(template: string, configured: URL): boolean {
  if (!isIssuerTemplate(template)) return false;
  const [prefix, suffix] = split(template);
  const href = configured.href;
  if (!href.startsWith(prefix) || !href.endsWith(suffix) || href.length < prefix.length + suffix.length) {
    return false;
  }
  const segment = href.slice(prefix.length, href.length - suffix.length);
  if (!prefix.endsWith('/') || !/^[A-Za-z0-9._-]+$/.test(segment)) return false;
  try {
    return new URL(prefix).origin === configured.origin;
  } catch {
    return false;
  }
}

/** The issuer for one tenant, or `undefined` for a `tid` that is no tenant id. */
export function issuerForTenant(template: string, tid: unknown): string | undefined {
  if (!isTenantId(tid)) return undefined;
  const [prefix, suffix] = split(template);
  return prefix + tid + suffix;
}

/** Whether `allowedTenants` accepts `tid`; a predicate that throws refuses. */
export function tenantAllowed(allowed: AllowedTenants, tid: string): boolean {
  if (typeof allowed === 'function') {
    try {
      return allowed(tid) === true;
    } catch {
      return false;
    }
  }
  return allowed.includes(tid);
}

/** Why a token's tenant was refused, for the operator; `undefined` when it is accepted. */
export type TenantRefusal = 'tid' | 'tenant_not_allowed' | 'no_allowed_tenants';

/**
 * The `iss` a token from a templated issuer must carry: the template with its `tid`, when `tid` is a
 * tenant id that `allowedTenants` accepts. Otherwise the reason it is refused.
 */
export function expectedTenantIssuer(
  template: string,
  payload: { readonly [claim: string]: unknown },
  allowed: AllowedTenants | undefined,
): { issuer: string; tid: string } | { refusal: TenantRefusal } {
  const tid = payload['tid'];
  const issuer = issuerForTenant(template, tid);
  if (issuer === undefined) return { refusal: 'tid' };
  if (allowed === undefined) return { refusal: 'no_allowed_tenants' };
  if (!tenantAllowed(allowed, tid as string)) return { refusal: 'tenant_not_allowed' };
  return { issuer, tid: tid as string };
}

/**
 * Before any discovery: could `iss` be the issuer at `configured` for the token's own `tid`? The same
 * URL with exactly one path segment replaced by `tid` (`/organizations/v2.0` → `/<tid>/v2.0`). Used
 * only to pick which configured issuer to ask, never to accept a token.
 */
export function fitsWithTenant(iss: string, configured: URL, tid: unknown): boolean {
  if (!isTenantId(tid)) return false;
  let url: URL;
  try {
    url = new URL(iss);
  } catch {
    return false;
  }
  if (url.origin !== configured.origin || url.search !== '' || url.hash !== '') return false;
  const got = url.pathname.split('/');
  const want = configured.pathname.split('/');
  if (got.length !== want.length) return false;
  let differing = 0;
  for (let i = 0; i < got.length; i++) {
    if (got[i] === want[i]) continue;
    if (got[i] !== tid) return false;
    differing++;
  }
  return differing === 1;
}

/** Check an `allowedTenants` option; throws a TypeError naming it. */
export function checkAllowedTenants(value: unknown, option: string): AllowedTenants | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value as (tid: string) => boolean;
  if (!Array.isArray(value) || value.length === 0 || !value.every(isTenantId)) {
    throw new TypeError(
      `"${option}" must be a non-empty list of tenant ids (letters, digits and dashes) or a function (tid) => boolean`,
    );
  }
  return Object.freeze([...value]);
}
