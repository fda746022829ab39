/**
 * Where `bearer()` gets keys from and what tokens must say, per issuer: the top-level options
 * (`issuerBaseURL`, or `issuer` + `jwksUri`, with `audience`), or one entry per IdP with `issuers`.
 * Each entry is checked by the same rules as the top level, its messages naming `issuers[i].…`.
 */

import type { AllowedTenants } from '../protocol/issuer-template.js';
import { checkAllowedTenants, isIssuerTemplate } from '../protocol/issuer-template.js';
import type { BearerOptions } from './bearer.js';
import { requireCallableUrl } from './validate.js';

/** One IdP of `bearer({ issuers: [...] })`: where its keys come from, and what its tokens must say. */
export interface BearerIssuerOptions {
  /** The IdP; its discovery document gives `issuer` and `jwks_uri`. */
  issuerBaseURL?: string | URL | undefined;
  /** The expected `iss`, or several; with `jwksUri` when there is no discovery. */
  issuer?: string | string[] | undefined;
  /** The IdP's keys, when there is no discovery. */
  jwksUri?: string | URL | undefined;
  /** The `aud` this API accepts from this IdP. @default the top-level `audience` */
  audience?: string | string[] | undefined;
  /** For a templated issuer (`{tenantid}`): the tenants accepted. @default the top-level `allowedTenants` */
  allowedTenants?: AllowedTenants | undefined;
}

/** Where one issuer's keys come from and what its tokens must say: the whole config, or one of `issuers`. */
export interface BearerIssuerConfig {
  readonly issuerBaseURL: URL | undefined;
  readonly issuers: readonly string[] | undefined;
  readonly jwksUri: URL | undefined;
  readonly audiences: readonly string[];
  readonly allowedTenants: AllowedTenants | undefined;
}

export function stringList(value: unknown, option: string, envName?: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item.trim() !== '')
  ) {
    const env = envName === undefined ? '' : ` (or the ${envName} environment variable)`;
    throw new TypeError(`"${option}" is required: a string or a list of strings${env}`);
  }
  return [...list];
}

interface SourceRules {
  /** `''` for the top level, `issuers[0].` for an entry. */
  readonly path: string;
  readonly allowInsecureHttp: boolean;
  /** Asymmetric algorithms are allowed, so keys are needed (a JWKS). */
  readonly needsKeys: boolean;
  /** The variables of the top-level options, named in their messages; none for entries. */
  readonly env: boolean;
}

/** One issuer's key source and expectations (top level or entry), checked. */
function issuerSource(
  o: BearerIssuerOptions,
  defaults: { audience: unknown; allowedTenants: unknown },
  rules: SourceRules,
): BearerIssuerConfig {
  const { path, allowInsecureHttp, needsKeys, env } = rules;
  const envName = (name: string) => (env ? name : undefined);
  const audience = o.audience ?? defaults.audience;
  if (!env && audience === undefined) {
    throw new TypeError(
      `"${path}audience" is required (or a top-level "audience", or the AUDIENCE environment variable)`,
    );
  }
  const audiences = stringList(
    audience,
    o.audience === undefined ? 'audience' : `${path}audience`,
    env ? 'AUDIENCE' : undefined,
  );
  const issuerBaseURL =
    o.issuerBaseURL === undefined
      ? undefined
      : requireCallableUrl(o.issuerBaseURL, `${path}issuerBaseURL`, {
          allowInsecureHttp,
          ...(env ? { envName: 'ISSUER_BASE_URL' } : {}),
        });
  const issuers =
    o.issuer === undefined ? undefined : stringList(o.issuer, `${path}issuer`, envName('API_ISSUER'));
  const jwksUri =
    o.jwksUri === undefined
      ? undefined
      : requireCallableUrl(o.jwksUri, `${path}jwksUri`, {
          allowInsecureHttp,
          ...(env ? { envName: 'API_JWKS_URI' } : {}),
        });
  const or = (name: string) => (env ? ` (or ${name})` : '');
  if (issuerBaseURL === undefined && issuers === undefined) {
    throw new TypeError(
      `"${path}issuerBaseURL" (or "${path}issuer" with "${path}jwksUri") is required${or('ISSUER_BASE_URL')}`,
    );
  }
  if (issuerBaseURL === undefined && needsKeys && jwksUri === undefined) {
    throw new TypeError(
      `"${path}jwksUri" is required with "${path}issuer" when there is no "${path}issuerBaseURL"${or('API_JWKS_URI')}`,
    );
  }
  const allowedTenants = checkAllowedTenants(
    o.allowedTenants ?? defaults.allowedTenants,
    o.allowedTenants === undefined ? 'allowedTenants' : `${path}allowedTenants`,
  );
  if (issuers?.some(isIssuerTemplate) && allowedTenants === undefined) {
    throw new TypeError(
      `"${path}issuer" is templated ({tenantid}): "allowedTenants" is required (a list of tenant ids, or a function)`,
    );
  }
  return Object.freeze({
    issuerBaseURL,
    issuers: issuers === undefined ? undefined : Object.freeze(issuers),
    jwksUri,
    audiences: Object.freeze(audiences),
    allowedTenants,
  });
}

/** What names an issuer, to refuse two entries for one IdP (a token would only ever reach the first). */
function identity(config: BearerIssuerConfig): string[] {
  return [
    ...(config.issuerBaseURL === undefined ? [] : [config.issuerBaseURL.href]),
    ...(config.issuers ?? []),
  ];
}

/**
 * The issuers of a `bearer()` config: the top level's one, or `issuers`' several. `explicit` holds the
 * options given in code: with `issuers`, an ISSUER_BASE_URL in the environment (set for sign-in, say)
 * is ignored, while one given in code beside `issuers` is a mistake.
 */
export function validateIssuers(
  o: BearerOptions,
  explicit: BearerOptions,
  rules: { allowInsecureHttp: boolean; needsKeys: boolean },
): { top: BearerIssuerConfig; entries: readonly BearerIssuerConfig[] | undefined } {
  if (o.issuers === undefined) {
    const top = issuerSource(
      o,
      { audience: undefined, allowedTenants: undefined },
      { ...rules, path: '', env: true },
    );
    return { top, entries: undefined };
  }
  for (const name of ['issuerBaseURL', 'issuer', 'jwksUri', 'introspection'] as const) {
    if (explicit[name] !== undefined && explicit[name] !== false) {
      throw new TypeError(
        `"issuers" and "${name}" cannot be combined: give each IdP its own entry in "issuers"`,
      );
    }
  }
  if (!Array.isArray(o.issuers) || o.issuers.length === 0) {
    throw new TypeError('"issuers" must be a non-empty list of issuers ({ issuerBaseURL, audience })');
  }
  const seen = new Map<string, number>();
  const entries = o.issuers.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new TypeError(`"issuers[${i}]" must be an object ({ issuerBaseURL, audience })`);
    }
    const config = issuerSource(
      entry as BearerIssuerOptions,
      { audience: o.audience, allowedTenants: o.allowedTenants },
      { ...rules, path: `issuers[${i}].`, env: false },
    );
    for (const name of identity(config)) {
      const first = seen.get(name);
      if (first !== undefined) {
        throw new TypeError(`"issuers[${i}]" names the same issuer as "issuers[${first}]" (${name})`);
      }
      seen.set(name, i);
    }
    return config;
  });
  const top: BearerIssuerConfig = Object.freeze({
    issuerBaseURL: undefined,
    issuers: undefined,
    jwksUri: undefined,
    audiences: Object.freeze([]),
    allowedTenants: undefined,
  });
  return { top, entries: Object.freeze(entries) };
}
