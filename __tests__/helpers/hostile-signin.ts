/**
 * A sign-in app whose IdP is hostile (rogue-idp.ts), for the suites that attack the callback: auth() as
 * the client `web` with a client secret, logins started as a browser starts them, the ID tokens and
 * token answers the test forges, and what the user and the IdP saw.
 */
import { afterAll, beforeAll } from '@jest/globals';
import type * as jose from 'jose';
import type { AuthorizationParams } from '../../lib/index.js';
import { type SigninApp, startSigninApp, TestBrowser } from '../signin/harness.js';
import { type RogueIdp, startRogueIdp } from './rogue-idp.js';

/** The client secret of the app's client `web` (what an attacker signs HS256 with, too). */
export const ROGUE_SECRET = 'rogue-client-secret-0123456789abcdef';

/** A login the app started: the browser that holds it, and what it sent the IdP. */
export interface PendingLogin {
  readonly browser: TestBrowser;
  /** The authorization request the browser was sent to. */
  readonly url: URL;
  readonly state: string;
  readonly nonce: string;
  readonly challenge: string;
}

export interface HostileSignin {
  readonly rogue: RogueIdp;
  readonly app: SigninApp;
  /** A new browser starts a login at the app. */
  begin(): Promise<PendingLogin>;
  /** The claims of a genuine ID token for the login with `nonce`, with `extra` over them. */
  claims(nonce: string, extra?: jose.JWTPayload): jose.JWTPayload;
  /** The IdP's token endpoint answers this ID token, and `accessToken`. */
  answerWith(idToken: string, accessToken?: string): void;
  /** The token requests the IdP has had. */
  tokenRequests(): number;
  /** Whether the login's browser is signed in at the app. */
  signedIn(login: PendingLogin): Promise<boolean>;
}

/**
 * For a suite: the hostile IdP (its `metadata` overridden) and the app (`authorizationParams` over
 * `scope: 'openid'`), started before its tests and closed after them.
 */
export function useHostileSignin({
  authorizationParams = {},
  metadata = {},
}: {
  authorizationParams?: AuthorizationParams;
  metadata?: Record<string, unknown>;
} = {}): HostileSignin {
  let rogue: RogueIdp | undefined;
  let app: SigninApp | undefined;
  beforeAll(async () => {
    rogue = await startRogueIdp();
    Object.assign(rogue.metadata, metadata);
    app = await startSigninApp(rogue, {
      options: {
        clientSecret: ROGUE_SECRET,
        authorizationParams: { scope: 'openid', ...authorizationParams },
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await rogue?.close();
  });
  return {
    get rogue() {
      return rogue!;
    },
    get app() {
      return app!;
    },
    async begin() {
      const browser = new TestBrowser();
      const url = new URL((await browser.get(`${app!.baseURL}/login`)).location!);
      const param = (name: string) => url.searchParams.get(name)!;
      return {
        browser,
        url,
        state: param('state'),
        nonce: param('nonce'),
        challenge: param('code_challenge'),
      };
    },
    claims(nonce, extra = {}) {
      const now = Math.floor(Date.now() / 1000);
      return { iss: rogue!.issuer, aud: 'web', sub: 'mallory', nonce, iat: now, exp: now + 300, ...extra };
    },
    answerWith(idToken, accessToken = 'access-token-value-123') {
      rogue!.token = () => ({
        status: 200,
        body: { access_token: accessToken, token_type: 'Bearer', expires_in: 300, id_token: idToken },
      });
    },
    tokenRequests: () => rogue!.requests.filter((r) => r.path === '/token').length,
    async signedIn(login) {
      return JSON.parse((await login.browser.get(`${app!.baseURL}/me`)).body).authenticated;
    },
  };
}
