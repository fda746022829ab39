/**
 * Server-provided DPoP nonces (RFC 9449 §8 and §9): the latest `DPoP-Nonce` each origin sent,
 * remembered for the next proof to that origin. Bounded: beyond `max` origins the least recently
 * used is forgotten (a forgotten nonce costs one `use_dpop_nonce` retry, nothing more).
 */

/** A header bag: fetch's `Headers`, axios's `AxiosHeaders`, or a plain object. */
export type HeadersLike = { get(name: string): unknown } | Record<string, unknown> | null | undefined;

export function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const get = (headers as { get?: (n: string) => unknown }).get;
  const value =
    typeof get === 'function'
      ? get.call(headers, name)
      : ((headers as Record<string, unknown>)[name] ??
        (headers as Record<string, unknown>)[name.toLowerCase()]);
  if (Array.isArray(value)) return value.join(', ');
  return typeof value === 'string' ? value : undefined;
}

/** Nonces are opaque, but printable ASCII only (RFC 9449 §8.1 `NQCHAR`); anything else is ignored. */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]{1,1024}$/;

export class DpopNonces {
  readonly #max: number;
  readonly #nonces = new Map<string, string>();

  constructor(max = 100) {
    this.#max = max;
  }

  /** The nonce to put in the next proof for `url`'s origin, if one is known. */
  get(url: string | URL): string | undefined {
    const origin = new URL(url).origin;
    const nonce = this.#nonces.get(origin);
    if (nonce !== undefined) {
      this.#nonces.delete(origin); // most recently used goes last
      this.#nonces.set(origin, nonce);
    }
    return nonce;
  }

  /**
   * Keep the `DPoP-Nonce` of any answer from `url` (errors and successes alike).
   * @returns the answer's nonce, if it had a usable one
   */
  remember(url: string | URL, headers: unknown): string | undefined {
    const nonce = headerValue(headers, 'dpop-nonce');
    if (nonce === undefined || !NONCE.test(nonce)) return undefined;
    const origin = new URL(url).origin;
    this.#nonces.delete(origin);
    if (this.#nonces.size >= this.#max) {
      this.#nonces.delete(this.#nonces.keys().next().value as string);
    }
    this.#nonces.set(origin, nonce);
    return nonce;
  }
}

/**
 * Does a resource server ask for a (new) nonce? RFC 9449 §9: a 401 whose `WWW-Authenticate` has a
 * `DPoP` challenge with `error="use_dpop_nonce"`.
 */
export function isUseDpopNonceChallenge(status: number, wwwAuthenticate: unknown): boolean {
  if (status !== 401) return false;
  const header = Array.isArray(wwwAuthenticate) ? wwwAuthenticate.join(', ') : wwwAuthenticate;
  if (typeof header !== 'string' || !/(?:^|[\s,])dpop(?:\s|$)/i.test(header)) return false;
  return /(?:^|[\s,])error\s*=\s*(?:"use_dpop_nonce"|use_dpop_nonce(?![\w-]))/i.test(header);
}
