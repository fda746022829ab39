/**
 * RFC 8693 on-behalf-of calls against the real oidc-provider, with the token-exchange grant a
 * deployment registers (helpers/token-exchange-grant.ts): the exchanged token is a JWT for the
 * downstream audience with the subject's `sub` and the agent as `act`, accepted by a real bearer()
 * resource server, cached per subject and audience, and DPoP-bound when the agent uses DPoP.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import { type ServiceAgentOptions, serviceAgent } from '../../lib/index.js';
import { buildNodeServer, close, listen } from '../api/app.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';
import { registerTokenExchangeGrant, TOKEN_EXCHANGE_GRANT } from '../helpers/token-exchange-grant.js';
import { type DpopResourceServer, startDpopResourceServer } from './fixtures/dpop-resource-server.js';

const LEDGER = 'https://ledger.example.test';
const REPORTS = 'https://reports.example.test';

let idp: TestIdp;
let ledger: Server;
let ledgerUrl: string;
let dpopApi: DpopResourceServer;
/** Token-exchange requests the IdP answered, counted by a middleware at the IdP. */
let exchanges = 0;
let subjectToken: string;

beforeAll(async () => {
  idp = await startIdp({
    extend: (provider, self) => {
      registerTokenExchangeGrant(provider, self, { clients: ['service'] });
      provider.use(async (ctx, next) => {
        await next();
        if (ctx.path === '/token' && ctx.oidc?.params?.grant_type === TOKEN_EXCHANGE_GRANT) exchanges++;
      });
    },
  });
  ledger = buildNodeServer({ issuerBaseURL: idp.issuer, audience: LEDGER });
  ledgerUrl = await listen(ledger);
  dpopApi = await startDpopResourceServer();
  // The subject: an access token of this IdP (client credentials of `service`, for the API).
  const upstream = serviceAgent(base({ resource: API_AUDIENCE, scope: 'orders:read' }));
  subjectToken = (await upstream.getToken()).access_token;
  await upstream.close();
});
afterAll(async () => {
  await close(ledger);
  await dpopApi.close();
  await idp.close();
});

function base(extra: ServiceAgentOptions): ServiceAgentOptions {
  return { issuerBaseURL: idp.issuer, clientID: 'service', clientSecret: SERVICE_SECRET, ...extra };
}

async function verified(token: string, audience: string): Promise<jose.JWTPayload> {
  const jwks = jose.createRemoteJWKSet(new URL(`${idp.issuer}/jwks`));
  const { payload } = await jose.jwtVerify(token, jwks, { issuer: idp.issuer, audience, typ: 'at+jwt' });
  return payload;
}

describe('onBehalfOf() against oidc-provider', () => {
  test('a JWT for the downstream audience: the subject as sub, the agent as act', async () => {
    const agent = serviceAgent(base({ resource: LEDGER, tokenExchange: true }));
    const token = await agent.onBehalfOf(subjectToken).getToken();
    expect(token.token_type).toBe('Bearer');
    const claims = await verified(token.access_token, LEDGER);
    expect(claims.sub).toBe(jose.decodeJwt(subjectToken).sub);
    expect(claims.act).toEqual({ sub: 'service' });
    expect(claims.scope).toBe('orders:read');
    expect(claims).not.toHaveProperty('cnf');
    await agent.close();
  });

  test('cached per subject and audience: a second call makes no request, another audience does', async () => {
    const agent = serviceAgent(base({ resource: LEDGER, tokenExchange: true }));
    const before = exchanges;
    const first = await agent.onBehalfOf(subjectToken).getToken();
    const again = await Promise.all([1, 2, 3].map(() => agent.onBehalfOf(subjectToken).getToken()));
    expect(again.every((t) => t.access_token === first.access_token)).toBe(true);
    expect(exchanges).toBe(before + 1);
    const reports = serviceAgent(base({ resource: REPORTS, tokenExchange: true }));
    expect(
      (await verified((await reports.onBehalfOf(subjectToken).getToken()).access_token, REPORTS)).aud,
    ).toBe(REPORTS);
    expect(exchanges).toBe(before + 2);
    await Promise.all([agent.close(), reports.close()]);
  });

  test('fetch() reaches a bearer() API that accepts the exchanged token', async () => {
    const agent = serviceAgent(base({ resource: LEDGER, tokenExchange: true }));
    const res = await agent.onBehalfOf(subjectToken).fetch(`${ledgerUrl}/entries`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: jose.decodeJwt(subjectToken).sub });
    await agent.close();
  });

  test('a subject token the IdP did not issue, or one that forbids this actor: invalid_grant', async () => {
    const agent = serviceAgent(base({ resource: LEDGER, tokenExchange: true }));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new jose.SignJWT({ sub: 'mallory', scope: 'orders:read' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: idp.signingKeys[0]!.kid! })
      .setIssuer(idp.issuer)
      .setExpirationTime('5m')
      .sign(privateKey);
    const notForUs = await idp.sign(
      {
        iss: idp.issuer,
        sub: 'bob',
        exp: Math.floor(Date.now() / 1000) + 300,
        may_act: { sub: 'someone-else' },
      },
      { typ: 'at+jwt' },
    );
    for (const subject of [forged, notForUs]) {
      const err = await agent
        .onBehalfOf(subject)
        .getToken()
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_TOKEN_REQUEST_FAILED', error: 'invalid_grant' });
      expect(JSON.stringify(err)).not.toContain(subject);
    }
    await agent.close();
  });

  test('with dpop: a DPoP-bound exchanged token (cnf.jkt of the agent key), proofs on calls, IdP nonce answered once', async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      format: 'jwk',
    }) as jose.JWK;
    const agent = serviceAgent(base({ resource: LEDGER, tokenExchange: true, dpop: { key } }));
    idp.settings.dpopNonce = true;
    const before = exchanges;
    try {
      const token = await agent.onBehalfOf(subjectToken).getToken();
      expect(token.token_type).toBe('DPoP');
      const { d: _d, ...publicJwk } = key;
      const claims = await verified(token.access_token, LEDGER);
      expect(claims.cnf).toEqual({ jkt: await jose.calculateJwkThumbprint(publicJwk) });
      // The first exchange was refused for want of a nonce; exactly one more was made.
      expect(exchanges).toBe(before + 2);
    } finally {
      idp.settings.dpopNonce = false;
    }
    const res = await agent.onBehalfOf(subjectToken).fetch(`${dpopApi.url}/entries`);
    expect(res.status).toBe(200);
    expect(dpopApi.calls.at(-1)?.verdict).toBe('ok');
    await agent.close();
  });
});
