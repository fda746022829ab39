/**
 * DPoP-bound client-credentials tokens from the real oidc-provider (RFC 9449 §5): the token
 * request carries a proof, the token is bound to the agent's key (`cnf.jkt`), and a nonce the IdP
 * demands costs exactly one more request.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import { type ServiceAgentOptions, serviceAgent } from '../../lib/index.js';
import type { FetchLike } from '../../lib/protocol/http.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';

let idp: TestIdp;

beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp.close());

/** Records the token requests that reach the IdP, with their DPoP proofs. */
function recordingFetch(): { fetch: FetchLike; proofs: Array<string | null> } {
  const proofs: Array<string | null> = [];
  return {
    fetch: (input, init) => {
      if (String(input instanceof Request ? input.url : input).endsWith('/token')) {
        proofs.push(new Headers(init?.headers).get('dpop'));
      }
      return globalThis.fetch(input, init);
    },
    proofs,
  };
}

const options = (extra: ServiceAgentOptions = {}): ServiceAgentOptions => ({
  issuerBaseURL: idp.issuer,
  clientID: 'service',
  clientSecret: SERVICE_SECRET,
  resource: API_AUDIENCE,
  dpop: true,
  ...extra,
});

describe('serviceAgent({ dpop: true }) against oidc-provider', () => {
  test('a DPoP token bound to the agent key, requested with a proof', async () => {
    const recorder = recordingFetch();
    const agent = serviceAgent(options({ fetch: recorder.fetch }));
    const token = await agent.getToken();
    expect(token.token_type).toBe('DPoP');
    expect(recorder.proofs).toHaveLength(1);
    const proof = recorder.proofs[0]!;
    const header = jose.decodeProtectedHeader(proof);
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(header.jwk).not.toHaveProperty('d');
    expect(jose.decodeJwt(proof)).toMatchObject({ htm: 'POST', htu: `${idp.issuer}/token` });
    const claims = jose.decodeJwt(token.access_token);
    expect(claims.aud).toBe(API_AUDIENCE);
    expect((claims.cnf as { jkt?: string }).jkt).toBe(await jose.calculateJwkThumbprint(header.jwk!));
    await agent.close();
  });

  test('an IdP that demands a nonce: exactly one more token request, with its nonce', async () => {
    idp.settings.dpopNonce = true;
    try {
      const recorder = recordingFetch();
      const agent = serviceAgent(options({ fetch: recorder.fetch }));
      await Promise.all([agent.getToken(), agent.getToken()]);
      expect(recorder.proofs).toHaveLength(2);
      const [first, second] = recorder.proofs.map((p) => jose.decodeJwt(p!));
      expect(first!.nonce).toBeUndefined();
      expect(typeof second!.nonce).toBe('string');
      expect(second!.jti).not.toBe(first!.jti);
      // The next token request (after invalidate) sends the nonce it now knows: no extra round trip.
      await agent.invalidate();
      await agent.getToken();
      expect(recorder.proofs).toHaveLength(3);
      await agent.close();
    } finally {
      idp.settings.dpopNonce = false;
    }
  });

  test('each agent has a key of its own by default: another jkt', async () => {
    const agent = serviceAgent(options());
    const own = jose.decodeJwt((await agent.getToken()).access_token).cnf;
    expect(own).toEqual({ jkt: expect.any(String) });
    await agent.close();
    const other = serviceAgent(options());
    expect(jose.decodeJwt((await other.getToken()).access_token).cnf).not.toEqual(own);
    await other.close();
  });
});
