/**
 * `bearer({ issuers })`: which configured issuer a token is for, read from its `iss` (and `tid`)
 * before anything is verified or fetched. Nothing here accepts a token: it only decides whose keys and
 * rules to check it with, and a token whose `iss` names no configured issuer is refused unread, so
 * that no token can make the API call a URL of its choosing.
 *
 * An issuer matches a token when:
 * - its `issuer` list holds the token's `iss` exactly, or a template of it (`{tenantid}`) with the
 *   token's `tid` gives that `iss`;
 * - else its `issuerBaseURL` is the token's `iss` (RFC 8414 §3.3: the discovered issuer must be that
 *   URL), or, with `allowedTenants` (a templated issuer such as Entra ID's `/organizations/v2.0`),
 *   that URL with one path segment replaced by the token's `tid`.
 */
import {
  type AllowedTenants,
  fitsWithTenant,
  issuerForTenant,
  TENANT_PLACEHOLDER,
} from './issuer-template.js';

export interface IssuerCandidate {
  readonly issuerBaseURL: URL | undefined;
  readonly issuers: readonly string[] | undefined;
  readonly allowedTenants: AllowedTenants | undefined;
}

function sameUrl(iss: string, url: URL): boolean {
  try {
    return new URL(iss).href === url.href;
  } catch {
    return false;
  }
}

function matches(candidate: IssuerCandidate, iss: string, tid: unknown): boolean {
  if (candidate.issuers !== undefined) {
    return candidate.issuers.some((issuer) =>
      issuer.includes(TENANT_PLACEHOLDER) ? issuerForTenant(issuer, tid) === iss : issuer === iss,
    );
  }
  const base = candidate.issuerBaseURL;
  if (base === undefined) return false;
  return sameUrl(iss, base) || (candidate.allowedTenants !== undefined && fitsWithTenant(iss, base, tid));
}

/** The index of the issuer the token's claims name, or -1 when none does. */
export function selectIssuer(
  candidates: readonly IssuerCandidate[],
  claims: { readonly iss?: unknown; readonly [claim: string]: unknown },
): number {
  const iss = claims.iss;
  if (typeof iss !== 'string' || iss.includes(TENANT_PLACEHOLDER)) return -1;
  return candidates.findIndex((candidate) => matches(candidate, iss, claims['tid']));
}

/** How a candidate is named in the operator's log: its URL, or its expected issuers. */
export function issuerNames(candidates: readonly IssuerCandidate[]): string[] {
  return candidates.flatMap(
    (c) => c.issuers ?? (c.issuerBaseURL === undefined ? [] : [c.issuerBaseURL.href]),
  );
}
