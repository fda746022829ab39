/**
 * Small validators shared by the three factories. Each throws one `TypeError` that quotes the
 * option, at start-up, so that bad configuration never fails later on a request.
 */
import { isLoopbackHost } from '../protocol/url-policy.js';

export function requireString(value: unknown, option: string, envName?: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    const env = envName === undefined ? '' : ` (or the ${envName} environment variable)`;
    throw new TypeError(`"${option}" is required${env}`);
  }
  return value;
}

export function optionalString(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`"${option}" must be a non-empty string`);
  return value;
}

export function optionalBoolean(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`"${option}" must be a boolean`);
  return value;
}

export function optionalNumber(
  value: unknown,
  option: string,
  fallback: number,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(`"${option}" must be a number from ${min} to ${max}`);
  }
  return value;
}

export function optionalFunction<F extends (...args: never[]) => unknown>(
  value: unknown,
  option: string,
): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new TypeError(`"${option}" must be a function`);
  return value as F;
}

/**
 * A URL portcullis will call: absolute, and `https` unless the host is loopback or
 * `allowInsecureHttp` is on (API.md: every URL we call is https but for loopback).
 */
export function requireCallableUrl(
  value: unknown,
  option: string,
  { allowInsecureHttp, envName }: { allowInsecureHttp: boolean; envName?: string },
): URL {
  const text = requireString(value instanceof URL ? value.href : value, option, envName);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`"${option}" must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`"${option}" must be an https URL`);
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    throw new TypeError(
      `"${option}" must use https; plain http is allowed only for loopback hosts or with "allowInsecureHttp"`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError(`"${option}" must not contain credentials`);
  }
  return url;
}
