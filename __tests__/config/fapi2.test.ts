/**
 * `profile: 'fapi2'` at start-up, for the three products: every rule of lib/config/fapi2-rules.ts, each
 * broken once, is one TypeError naming the option, the rule and the section of the FAPI 2.0 Security
 * Profile; what the profile turns on by itself; and the mTLS predicates the rules rest on.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import * as rules from '../../lib/config/fapi2-rules.js';
import { signinConfig } from '../../lib/config/signin.js';
import type { ClientAuthConfig } from '../../lib/protocol/client-auth.js';
import { FAPI2_RULES } from '../../lib/protocol/fapi2.js';
import { AUTH, agent, api, auth, BEARER, CONFLICTS, ec256, rsa2048, SERVICE } from './fapi2-conflicts.js';

describe('a conflicting option is one start-up TypeError naming it, the rule and its section', () => {
  test.each(CONFLICTS)('%s', (_name, start, rule, message) => {
    const { section } = FAPI2_RULES[rule];
    let thrown: unknown;
    try {
      start();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    const text = (thrown as TypeError).message;
    expect(text.startsWith(message)).toBe(true);
    expect(text).toContain(`(profile "fapi2", rule "${rule}": `);
    expect(text).toContain(`FAPI 2.0 Security Profile §${section})`);
  });

  test('the valid configurations of the table start', () => {
    expect(auth(AUTH)).not.toThrow();
    expect(agent(SERVICE)).not.toThrow();
    expect(api(BEARER)).not.toThrow();
  });

  test('each rule of the tables, taken out, lets a row above start (the safety net: below)', () => {
    const tables = {
      SIGNIN_RULES: rules.SIGNIN_RULES,
      IDP_RULES: rules.IDP_RULES,
      CLIENT_RULES: rules.CLIENT_RULES,
      CLIENT_KEY_RULES: rules.CLIENT_KEY_RULES.slice(1), // [0]: the safety net, below
      SERVICE_RULES: rules.SERVICE_RULES,
      SERVICE_KEY_RULES: rules.SERVICE_KEY_RULES.slice(1), // [0]: the same safety net
      BEARER_RULES: rules.BEARER_RULES,
    };
    const all = Object.entries(tables).flatMap(([table, list]) =>
      list.map((rule, i) => [`${table}[${i}] ${rule.id}`, rule] as const),
    );
    const refused = (start: () => unknown, message: string) => {
      try {
        start();
        return false;
      } catch (err) {
        return (err as Error).message.startsWith(message);
      }
    };
    for (const [label, rule] of all) {
      const mutable = rule as { check: (typeof rule)['check'] };
      const check = mutable.check;
      mutable.check = () => undefined;
      try {
        const rows = CONFLICTS.filter(([, , id]) => id === rule.id);
        const caught = rows.filter(([, start, , message]) => !refused(start, message)).map(([name]) => name);
        expect([label, caught.length > 0]).toEqual([label, true]);
      } finally {
        mutable.check = check;
      }
    }
  });

  test('a client authenticating with a secret is refused even past the option checks (the safety net)', () => {
    const [method] = rules.CLIENT_KEY_RULES;
    const client = { method: 'client_secret_basic' } as ClientAuthConfig;
    expect(method!.check({ options: {}, path: 'providers.corp.', client })).toBe(
      'client authentication would be "client_secret_basic" ("providers.corp.clientAuthMethod"): use "clientAssertionSigningKey" (private_key_jwt) or a TLS client certificate (mTLS) instead',
    );
  });

  test('"profile" takes only "fapi2"', () => {
    expect(auth({ ...AUTH, profile: 'fapi1' as never })).toThrow(
      '"profile" must be "fapi2" (the FAPI 2.0 Security Profile), or unset (or the AUTH_PROFILE environment variable)',
    );
    expect(api(BEARER, { API_PROFILE: 'FAPI2' })).not.toThrow(); // BEARER's own option wins
    expect(api({ ...BEARER, profile: undefined }, { API_PROFILE: 'FAPI2' })).toThrow(/API_PROFILE/);
  });
});

describe('what the profile turns on', () => {
  test("auth(): PAR and DPoP for every provider, and PS256 for an RSA key's assertions", () => {
    const config = signinConfig({ ...AUTH, clientAssertionSigningKey: rsa2048 }, {});
    const provider = config.providers.kind === 'static' ? config.providers.byId.get('default')! : undefined;
    expect(provider).toMatchObject({ pushedAuthorizationRequests: true, dpop: true });
    expect(provider?.client).toMatchObject({ method: 'private_key_jwt', signingAlg: 'PS256' });
    expect(provider?.profile).toBeDefined();
    expect(config.clockTolerance).toBe(60);
    const plain = signinConfig({ ...AUTH, profile: undefined }, {});
    expect(plain.providers.kind === 'static' && plain.providers.byId.get('default')!.profile).toBeUndefined();
  });

  test('serviceAgent(): DPoP, and PS256 for an RSA key', () => {
    const config = agent({ ...SERVICE, clientAssertionSigningKey: rsa2048 })();
    expect(config.dpop?.alg).toBe('ES256');
    expect(config.clientAuth.signingAlg).toBe('PS256');
    expect(config.profile).toBeDefined();
  });

  test("bearer(): the profile's algorithms for tokens and proofs, and its clock", () => {
    const config = api(BEARER)();
    expect(config.algorithms).toEqual(['PS256', 'ES256', 'EdDSA', 'Ed25519']);
    expect(config.dpop).toMatchObject({ algorithms: ['PS256', 'ES256', 'EdDSA', 'Ed25519'], iatWindow: 50 });
    expect(config.clockTolerance).toBe(10);
    expect(config.profile).toEqual({ name: 'fapi2', mtls: false });
  });
});

describe('mTLS counts as soon as its options exist (the predicates the rules use)', () => {
  const tlsClient = { tlsClientCertificate: '-----BEGIN CERTIFICATE-----' };
  test('client authentication is mTLS with an RFC 8705 §2 method', () => {
    expect(rules.usesMtlsClientAuth({ clientAuthMethod: 'tls_client_auth' })).toBe(true);
    expect(rules.usesMtlsClientAuth({ clientAuthMethod: 'self_signed_tls_client_auth' })).toBe(true);
    expect(rules.usesMtlsClientAuth({ clientAuthMethod: 'private_key_jwt' })).toBe(false);
  });

  test('a client with a certificate needs no key, and may turn DPoP off', () => {
    const view = { options: { ...tlsClient, dpop: false }, path: '' };
    for (const rule of [...rules.CLIENT_RULES, ...rules.IDP_RULES]) expect(rule.check(view)).toBeUndefined();
    expect(rules.mtlsBoundClient({ clientAuthMethod: 'tls_client_auth' })).toBe(true);
    expect(rules.mtlsBoundClient({ clientAssertionSigningKey: ec256 })).toBe(false);
  });

  test('an API with mtls may turn DPoP off, or have no baseURL', () => {
    for (const options of [{ mtls: true, dpop: false }, { mtls: { trustedHeader: 'nginx' } }]) {
      for (const rule of rules.BEARER_RULES) expect(rule.check({ options, path: '' })).toBeUndefined();
    }
    expect(rules.apiChecksMtls({ mtls: false })).toBe(false);
  });
});

test('docs/fapi2.md names every rule with its section', () => {
  const guide = readFileSync(new URL('../../docs/fapi2.md', import.meta.url), 'utf8');
  for (const [id, { section }] of Object.entries(FAPI2_RULES)) {
    const row = guide.split('\n').find((line) => line.includes(`| \`${id}\` |`));
    expect([id, row?.includes(`§${section.split(',')[0]}`)]).toEqual([id, true]);
  }
});
