/**
 * A browser without a browser: fetch with `redirect: 'manual'` and a cookie jar keyed by host (ports
 * share cookies, as in browsers), enough to drive the IdP's real login pages and our callback.
 */

interface Cookie {
  name: string;
  value: string;
  path: string;
  expires: number | undefined;
  attributes: string;
}

export interface Hop {
  method: string;
  url: string;
  status: number;
  location: string | undefined;
  setCookies: string[];
  /** The response's headers, lower-cased names (Set-Cookie: see `setCookies`). */
  headers: Record<string, string>;
  body: string;
}

export class TestBrowser {
  readonly jar = new Map<string, Map<string, Cookie>>();
  /** Every request made, for assertions on URLs, cookies and bodies. */
  readonly history: Hop[] = [];
  /** Headers sent on every request. */
  headers: Record<string, string> = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

  /** `crossSite`: send only `SameSite=None` cookies, as a browser does on a cross-site POST. */
  cookieHeader(url: URL, crossSite = false): string {
    const cookies = this.jar.get(url.hostname);
    if (cookies === undefined) return '';
    const now = Date.now();
    return [...cookies.values()]
      .filter((c) => (c.expires === undefined || c.expires > now) && url.pathname.startsWith(c.path))
      .filter((c) => !crossSite || /samesite=none/i.test(c.attributes))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  cookie(host: string, name: string): Cookie | undefined {
    return this.jar.get(host)?.get(name);
  }

  store(url: URL, header: string): void {
    const [pair = '', ...attrs] = header.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = '/';
    let expires: number | undefined;
    for (const attr of attrs) {
      const [k = '', v = ''] = attr.split('=').map((s) => s.trim());
      if (k.toLowerCase() === 'path') path = v;
      if (k.toLowerCase() === 'max-age') expires = Date.now() + Number(v) * 1000;
      if (k.toLowerCase() === 'expires' && expires === undefined) expires = Date.parse(v);
    }
    let cookies = this.jar.get(url.hostname);
    if (cookies === undefined) {
      cookies = new Map();
      this.jar.set(url.hostname, cookies);
    }
    if (expires !== undefined && expires <= Date.now()) cookies.delete(name);
    else cookies.set(name, { name, value, path, expires, attributes: attrs.join(';') });
  }

  async request(
    method: string,
    target: string,
    {
      form,
      headers = {},
      crossSite = false,
    }: { form?: Record<string, string>; headers?: Record<string, string>; crossSite?: boolean } = {},
  ): Promise<Hop> {
    const url = new URL(target);
    const init: RequestInit = {
      method,
      redirect: 'manual',
      headers: { ...this.headers, ...headers, cookie: this.cookieHeader(url, crossSite) },
    };
    if (form !== undefined) {
      init.body = new URLSearchParams(form).toString();
      (init.headers as Record<string, string>)['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(url, init);
    const setCookies = res.headers.getSetCookie();
    for (const header of setCookies) this.store(url, header);
    const location = res.headers.get('location') ?? undefined;
    const answered: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      answered[name] = value;
    });
    const hop: Hop = {
      method,
      url: url.href,
      status: res.status,
      location: location === undefined ? undefined : new URL(location, url).href,
      setCookies,
      headers: answered,
      body: await res.text(),
    };
    this.history.push(hop);
    return hop;
  }

  get(url: string, headers?: Record<string, string>): Promise<Hop> {
    return this.request('GET', url, headers === undefined ? {} : { headers });
  }

  post(url: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Hop> {
    return this.request('POST', url, headers === undefined ? { form } : { form, headers });
  }

  /** Follow redirects (and form_post auto-submit pages) until `stop` says so or a non-redirect. */
  async follow(hop: Hop, stop: (hop: Hop) => boolean = () => false, max = 20): Promise<Hop> {
    let current = hop;
    for (let i = 0; i < max && !stop(current); i++) {
      if (current.location !== undefined && current.status >= 300 && current.status < 400) {
        current = await this.get(current.location);
        continue;
      }
      const form = parseAutoSubmitForm(current.body);
      if (form === undefined) return current;
      current = await this.post(new URL(form.action, current.url).href, form.fields);
    }
    return current;
  }
}

/** The IdP's form_post page: `<form method="post" action="...">` with hidden inputs and a script. */
export function parseAutoSubmitForm(
  html: string,
): { action: string; fields: Record<string, string> } | undefined {
  if (!/document\.forms\[0\]\.submit/.test(html)) return undefined;
  const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1];
  if (action === undefined) return undefined;
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/?>/g)) {
    fields[m[1]!] = decodeHtml(m[2]!);
  }
  return { action: decodeHtml(action), fields };
}

function decodeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x2F;/g, '/')
    .replace(/&amp;/g, '&');
}

/**
 * Log in at the IdP: from the authorization URL through the provider's real sign-in form, stopping
 * at the hop that reaches the app's callback (not sent when `stopAtCallback` is set).
 */
export async function signInAtIdp(
  browser: TestBrowser,
  authorizationUrl: string,
  {
    login = 'alice',
    stopAtCallback = false,
    callbackPath = '/callback',
  }: { login?: string; stopAtCallback?: boolean; callbackPath?: string } = {},
): Promise<{
  callback: { method: 'GET' | 'POST'; url: string; form?: Record<string, string> };
  result?: Hop;
}> {
  const authUrl = new URL(authorizationUrl);
  const idpOrigin = authUrl.origin;
  // With PAR the URL carries only a request_uri: the callback is then recognised by its path.
  const redirectUri = authUrl.searchParams.get('redirect_uri') ?? callbackPath;
  let hop = await browser.get(authorizationUrl);
  for (let i = 0; i < 15; i++) {
    const location = hop.location === undefined ? undefined : new URL(hop.location);
    const atCallback = redirectUri.startsWith('/')
      ? location?.pathname === redirectUri && location.origin !== idpOrigin
      : hop.location?.startsWith(redirectUri);
    if (atCallback && hop.location !== undefined) {
      const callback = { method: 'GET' as const, url: hop.location };
      if (stopAtCallback) return { callback };
      return { callback, result: await browser.get(hop.location) };
    }
    const form = parseAutoSubmitForm(hop.body);
    if (form !== undefined) {
      const callback = {
        method: 'POST' as const,
        url: new URL(form.action, hop.url).href,
        form: form.fields,
      };
      if (stopAtCallback) return { callback };
      // The IdP's auto-submitted form is a cross-site POST: only SameSite=None cookies go with it.
      return {
        callback,
        result: await browser.request('POST', callback.url, { form: form.fields, crossSite: true }),
      };
    }
    if (hop.status === 200 && /name="prompt" value="login"/.test(hop.body)) {
      const action = /<form[^>]*action="([^"]*)"/.exec(hop.body)?.[1] ?? '';
      hop = await browser.post(new URL(decodeHtml(action), idpOrigin).href, {
        prompt: 'login',
        login,
        password: 'x',
      });
      continue;
    }
    if (hop.location === undefined)
      throw new Error(
        `IdP stopped at ${hop.url}: ${hop.status} ${hop.body.replace(/<style>[\s\S]*<\/style>/, '').slice(0, 1500)}`,
      );
    hop = await browser.get(hop.location);
  }
  throw new Error('too many redirects at the IdP');
}
