/**
 * Which URLs portcullis may call. API.md: https everywhere, plain http only for loopback hosts
 * (`localhost`, `127.0.0.0/8`, `[::1]`) unless the user opts in. The same rule applies to URLs we
 * learn at run time (discovery's endpoints), not only to the ones configured.
 */
import { PortcullisError } from '../errors.js';

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** True when a call to `url` may go over plain http. */
export function insecureAllowed(url: URL, allowInsecureHttp: boolean): boolean {
  return url.protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(url.hostname));
}

/** Check a URL learnt at run time (from discovery) against the same policy as the configured ones. */
export function assertCallableUrl(value: unknown, field: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new PortcullisError('ERR_DISCOVERY_FAILED', `the IdP's "${field}" is not an absolute URL`, {
      status: 503,
    });
  }
  if (url.protocol === 'https:' || insecureAllowed(url, allowInsecureHttp)) return url;
  throw new PortcullisError(
    'ERR_DISCOVERY_FAILED',
    `the IdP's "${field}" must use https (plain http only for loopback hosts or with "allowInsecureHttp")`,
    { status: 503 },
  );
}
