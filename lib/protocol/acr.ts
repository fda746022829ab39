/**
 * Step-up checks (RFC 9470, OpenID Connect Core §2): is the authentication behind a token or a login
 * strong enough (`acr` one of the wanted values) and recent enough (`auth_time` within `max_age`)?
 * Free of Express: both `requireAcr()` and `requiresAuth({ acrValues, maxAge })` use it.
 */

export interface AcrRequirement {
  /** Acceptable Authentication Context Class References; any one of them will do. */
  acrValues?: readonly string[] | undefined;
  /** Seconds since the user last authenticated (`auth_time`). */
  maxAge?: number | undefined;
}

/** Check the option shapes at start-up; throws one TypeError naming the option. */
export function checkAcrRequirement(req: AcrRequirement, where: string): AcrRequirement {
  const { acrValues, maxAge } = req;
  if (
    acrValues !== undefined &&
    (!Array.isArray(acrValues) ||
      acrValues.length === 0 ||
      !acrValues.every((v) => typeof v === 'string' && v !== ''))
  ) {
    throw new TypeError(`${where}: "acrValues" must be a non-empty list of strings`);
  }
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0)) {
    throw new TypeError(`${where}: "maxAge" must be a whole number of seconds`);
  }
  return { acrValues, maxAge };
}

/** What falls short, in words for an error description, or `undefined` when the claims satisfy it. */
export function acrShortfall(
  claims: Readonly<Record<string, unknown>> | undefined,
  req: AcrRequirement,
  nowSeconds: number,
): string | undefined {
  if (req.acrValues !== undefined) {
    const acr = claims?.['acr'];
    if (typeof acr !== 'string' || !req.acrValues.includes(acr))
      return 'the authentication context (acr) is not one the resource accepts';
  }
  if (req.maxAge !== undefined) {
    const authTime = claims?.['auth_time'];
    if (typeof authTime !== 'number') return 'the time of authentication (auth_time) is unknown';
    if (nowSeconds - authTime > req.maxAge) return 'the authentication is too old (max_age)';
  }
  return undefined;
}
