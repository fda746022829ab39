/**
 * auth() against the real oidc-provider, watched through every outlet at once: `onEvent`, the
 * `portcullis:signin` diagnostics channel and the OpenTelemetry SDK (in-memory exporters); and a
 * `fetch` that notes every credential auth() sends to the IdP and every token it gets back, so that a
 * test can look for them in what the outlets saw.
 */
import { randomUUID } from 'node:crypto';
import diagnostics_channel from 'node:diagnostics_channel';
import { createServer } from 'node:net';
import type { AuthOptions, SigninEvent } from '../../lib/index.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { setUpTelemetry, type TestTelemetry } from '../helpers/otel.js';
import { type SigninApp, startSigninApp, TestBrowser } from '../signin/harness.js';

export interface Watched {
  telemetry: TestTelemetry;
  idp: TestIdp;
  app: SigninApp;
  /** What `onEvent` got, and what the channel carried, since the last `forget()`. */
  events: SigninEvent[];
  published: unknown[];
  /** Every credential auth() sent to the IdP and every token it received (form values, headers, JSON). */
  secrets: Set<string>;
  forget(): void;
  close(): Promise<void>;
}

const CREDENTIAL_FIELDS = [
  'code',
  'code_verifier',
  'refresh_token',
  'token',
  'client_secret',
  'client_assertion',
];
const TOKEN_FIELDS = ['access_token', 'refresh_token', 'id_token'];

/** The app's back-channel logout URI is fixed when the IdP starts: its port is reserved first. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The platform fetch, noting what goes to the IdP and what comes back. */
function notingFetch(secrets: Set<string>): typeof fetch {
  return async (input, init) => {
    const form = typeof init?.body === 'string' ? new URLSearchParams(init.body) : init?.body;
    if (form instanceof URLSearchParams) {
      for (const field of CREDENTIAL_FIELDS) for (const value of form.getAll(field)) secrets.add(value);
    }
    const authorization = new Headers(init?.headers).get('authorization');
    if (authorization !== null) {
      const credential = authorization.replace(/^(Basic|Bearer|DPoP) /, '');
      secrets.add(credential);
      if (authorization.startsWith('Basic ')) {
        const [, secret = ''] = Buffer.from(credential, 'base64').toString().split(':');
        secrets.add(secret).add(decodeURIComponent(secret));
      }
    }
    const response = await fetch(input, init);
    const body = (await response
      .clone()
      .json()
      .catch(() => undefined)) as Record<string, unknown> | undefined;
    for (const field of TOKEN_FIELDS) {
      if (typeof body?.[field] === 'string') secrets.add(body[field] as string);
    }
    return response;
  };
}

/** `extra`: more auth() options (PAR, DPoP…). The app's back-channel logout URI is registered at the IdP. */
export async function watchSignin(extra: Partial<AuthOptions> = {}): Promise<Watched> {
  const telemetry = setUpTelemetry();
  const port = await freePort();
  const idp = await startIdp({ backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel-logout` });
  const secrets = new Set<string>();
  const watched: Watched = {
    telemetry,
    idp,
    app: undefined as unknown as SigninApp,
    events: [],
    published: [],
    secrets,
    forget() {
      watched.events.length = 0;
      watched.published.length = 0;
      telemetry.reset();
    },
    async close() {
      diagnostics_channel.unsubscribe('portcullis:signin', listen);
      await watched.app.close();
      await idp.close();
      await telemetry.shutdown();
    },
  };
  const listen = (message: unknown) => watched.published.push(message);
  diagnostics_channel.subscribe('portcullis:signin', listen);
  watched.app = await startSigninApp(idp, {
    port,
    options: {
      backchannelLogout: true,
      idpLogout: true,
      revokeOnLogout: true,
      mergeUserInfo: true,
      fetch: notingFetch(secrets),
      onEvent: (event) => watched.events.push(event),
      ...extra,
    },
  });
  return watched;
}

/** The authorization request's `state` and `nonce` (and PKCE challenge): secrets of the login. */
export function loginSecrets(authorizationUrl: string | undefined): string[] {
  const url = new URL(authorizationUrl ?? 'http://invalid/');
  return ['state', 'nonce', 'code_challenge'].flatMap((name) => url.searchParams.getAll(name));
}

/** A back-channel logout token for `sid`, signed with the IdP's key as the IdP would sign it. */
export function logoutToken(w: Watched, sid: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return w.idp.sign(
    {
      iss: w.idp.issuer,
      aud: 'web',
      iat: now,
      exp: now + 120,
      jti: randomUUID(),
      sid,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    },
    { typ: 'logout+jwt' },
  );
}

export function postLogoutToken(w: Watched, token: string): Promise<Response> {
  return fetch(`${w.app.baseURL}/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }),
  });
}

export { TestBrowser };
