/**
 * The pure pieces behind several issuers, without Express or a network: templated-issuer matching,
 * picking an issuer by a token's claims, and the bounded LRU that holds resolved providers.
 */
import { describe, expect, test } from '@jest/globals';
import { BoundedLru } from '../../lib/protocol/bounded-lru.js';
import { selectIssuer } from '../../lib/protocol/issuer-selection.js';
import {
  checkAllowedTenants,
  expectedTenantIssuer,
  fitsWithTenant,
  issuerForTenant,
  templateFitsIssuer,
} from '../../lib/protocol/issuer-template.js';

const ENTRA = 'https://login.microsoftonline.com/{tenantid}/v2.0';
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

describe('templated issuers', () => {
  test.each([
    ['https://login.microsoftonline.com/organizations/v2.0', true],
    ['https://login.microsoftonline.com/common/v2.0', true],
    ['https://login.microsoftonline.com/organizations/v2.0/', false],
    ['https://login.microsoftonline.com/a/b/v2.0', false],
    ['https://login.microsoftonline.com/v2.0', false],
    ['https://evil.example/organizations/v2.0', false],
    ['https://login.microsoftonline.com.evil.example/organizations/v2.0', false],
  ])('the template stands for %s: %s', (configured, fits) => {
    expect(templateFitsIssuer(ENTRA, new URL(configured))).toBe(fits);
  });

  test('a template with two placeholders, or none, stands for nothing', () => {
    const url = new URL('https://idp.example/organizations/v2.0');
    expect(templateFitsIssuer('https://idp.example/{tenantid}/{tenantid}', url)).toBe(false);
    expect(templateFitsIssuer('https://idp.example/organizations/v2.0', url)).toBe(false);
  });

  test('the issuer for a tenant takes only a tenant id, never a path', () => {
    expect(issuerForTenant(ENTRA, TID)).toBe(`https://login.microsoftonline.com/${TID}/v2.0`);
    for (const tid of ['../x', 'a/b', '', 'x?y', 7, undefined, 'a'.repeat(65)]) {
      expect(issuerForTenant(ENTRA, tid)).toBeUndefined();
    }
  });

  test('allowedTenants: a list, a predicate, nothing; a throwing predicate refuses', () => {
    const payload = { tid: TID };
    expect(expectedTenantIssuer(ENTRA, payload, [TID])).toEqual({
      issuer: issuerForTenant(ENTRA, TID),
      tid: TID,
    });
    expect(expectedTenantIssuer(ENTRA, payload, ['other'])).toEqual({ refusal: 'tenant_not_allowed' });
    expect(expectedTenantIssuer(ENTRA, payload, undefined)).toEqual({ refusal: 'no_allowed_tenants' });
    expect(expectedTenantIssuer(ENTRA, payload, () => true)).toMatchObject({ tid: TID });
    const throwing = () => {
      throw new Error('lookup down');
    };
    expect(expectedTenantIssuer(ENTRA, payload, throwing)).toEqual({ refusal: 'tenant_not_allowed' });
    expect(expectedTenantIssuer(ENTRA, { tid: '../x' }, [TID])).toEqual({ refusal: 'tid' });
    expect(() => checkAllowedTenants(['ok', 'not/ok'], 'allowedTenants')).toThrow(TypeError);
  });

  test('before discovery, an iss may fit the configured URL with one segment replaced by its tid', () => {
    const configured = new URL('https://login.microsoftonline.com/organizations/v2.0');
    expect(fitsWithTenant(`https://login.microsoftonline.com/${TID}/v2.0`, configured, TID)).toBe(true);
    expect(fitsWithTenant(`https://login.microsoftonline.com/${TID}/v2.0`, configured, 'other')).toBe(false);
    expect(fitsWithTenant(`https://evil.example/${TID}/v2.0`, configured, TID)).toBe(false);
    expect(fitsWithTenant(`https://login.microsoftonline.com/${TID}/v3.0`, configured, TID)).toBe(false);
    expect(fitsWithTenant(`https://login.microsoftonline.com/${TID}/v2.0?x`, configured, TID)).toBe(false);
  });
});

describe('selectIssuer: the issuer a token names, from its claims alone', () => {
  const candidates = [
    { issuerBaseURL: new URL('https://a.example'), issuers: undefined, allowedTenants: undefined },
    {
      issuerBaseURL: undefined,
      issuers: ['https://b.example/', 'https://b2.example'],
      allowedTenants: undefined,
    },
    {
      issuerBaseURL: new URL('https://login.microsoftonline.com/organizations/v2.0'),
      issuers: undefined,
      allowedTenants: [TID],
    },
    { issuerBaseURL: undefined, issuers: ['https://sts.windows.net/{tenantid}/'], allowedTenants: [TID] },
  ];
  test.each<[Record<string, unknown>, number]>([
    [{ iss: 'https://a.example' }, 0],
    [{ iss: 'https://a.example/' }, 0],
    [{ iss: 'https://b2.example' }, 1],
    [{ iss: 'https://b.example' }, -1], // explicit issuers compare exactly
    [{ iss: `https://login.microsoftonline.com/${TID}/v2.0`, tid: TID }, 2],
    [{ iss: `https://login.microsoftonline.com/${TID}/v2.0` }, -1],
    [{ iss: `https://sts.windows.net/${TID}/`, tid: TID }, 3],
    [{ iss: 'https://sts.windows.net/{tenantid}/', tid: TID }, -1],
    [{ iss: 'https://evil.example' }, -1],
    [{ iss: 7 }, -1],
    [{}, -1],
  ])('%j → %i', (claims, index) => {
    expect(selectIssuer(candidates, claims)).toBe(index);
  });
});

describe('BoundedLru', () => {
  test('never holds more than its bound, and evicts the least recently used', () => {
    const evicted: string[] = [];
    const lru = new BoundedLru<string, number>(3, (key) => evicted.push(key));
    for (const key of ['a', 'b', 'c']) lru.set(key, 1);
    lru.get('a');
    lru.set('d', 1);
    expect(evicted).toEqual(['b']);
    for (let i = 0; i < 10_000; i++) {
      lru.set(`k${i}`, i);
      expect(lru.size).toBeLessThanOrEqual(3);
    }
    expect(lru.get('k9999')).toBe(9999);
    expect(lru.get('a')).toBeUndefined();
    expect(() => new BoundedLru(0)).toThrow(TypeError);
  });
});
