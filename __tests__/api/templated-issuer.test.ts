/**
 * Templated issuers (Entra ID's `/organizations/v2.0`: metadata `issuer` with `{tenantid}`) at the
 * API, against an Entra-shaped IdP of our own: one key set signs every tenant's tokens, so the token's
 * `tid` must be an allowed tenant and its `iss` the template with that `tid`.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { type BearerOptions, bearer, type Logger } from '../../lib/index.js';
import { startTenantIdp, type TenantIdp } from '../helpers/tenant-idp.js';
import { buildApp } from './app.js';

const AUDIENCE = 'api://orders';
const ALLOWED = '11111111-1111-1111-1111-111111111111';
const OTHER = '22222222-2222-2222-2222-222222222222';

let idp: TenantIdp;
beforeAll(async () => {
  idp = await startTenantIdp();
});
afterAll(() => idp.close());

function token(tid: string | undefined, extra: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return idp.sign(
    {
      iss: tid === undefined ? idp.tenantIssuer(ALLOWED) : idp.tenantIssuer(tid),
      ...(tid === undefined ? {} : { tid }),
      aud: AUDIENCE,
      sub: 'user-1',
      iat: now,
      exp: now + 300,
      scp: 'orders.read',
      ...extra,
    },
    { typ: 'JWT' },
  );
}

function logged(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = (details: object) => {
    lines.push(details as Record<string, unknown>);
  };
  return { lines, logger: { info: log, warn: () => undefined, error: log, debug: () => undefined } };
}

/** Entra ID's tokens are `typ: JWT`; the start-up warning about it is not what these tests read. */
const quiet: Logger = { warn: () => undefined };

const call = async (options: BearerOptions, bearerToken: string) =>
  request(buildApp('express5', { allowJWTTyp: true, audience: AUDIENCE, logger: quiet, ...options }))
    .get('/api/me')
    .set('authorization', `Bearer ${bearerToken}`);

describe('a templated issuer at the API', () => {
  test('an allowed tenant passes; another tenant is refused (reason tenant)', async () => {
    const { logger, lines } = logged();
    const options = { issuerBaseURL: idp.organizations, allowedTenants: [ALLOWED], logger };
    expect((await call(options, await token(ALLOWED))).status).toBe(200);
    const refused = await call(options, await token(OTHER));
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(lines.at(-1)).toMatchObject({ reason: 'tenant', received: OTHER, expected: [ALLOWED] });
  });

  test("the iss must be the template with the token's own tid", async () => {
    const options = { issuerBaseURL: idp.organizations, allowedTenants: [ALLOWED, OTHER] };
    // An allowed tid with another tenant's iss, the template itself, no tid, a tid that is a path.
    for (const forged of [
      await token(ALLOWED, { iss: idp.tenantIssuer(OTHER) }),
      await token(ALLOWED, { iss: idp.template }),
      await token(undefined),
      await token('../organizations', { iss: `${idp.origin}/../organizations/v2.0` }),
    ]) {
      expect((await call(options, forged)).status).toBe(401);
    }
    // Even when every tenant is welcome, a tid is a tenant id, never a path into another issuer.
    const anyTenant = { issuerBaseURL: idp.organizations, allowedTenants: () => true };
    expect((await call(anyTenant, await token(OTHER))).status).toBe(200);
    const pathTid = await token('../organizations', { iss: `${idp.origin}/../organizations/v2.0` });
    expect((await call(anyTenant, pathTid)).status).toBe(401);
  });

  test('without allowedTenants no tenant is accepted, and the log says what to set', async () => {
    const { logger, lines } = logged();
    const res = await call({ issuerBaseURL: idp.organizations, logger }, await token(ALLOWED));
    expect(res.status).toBe(401);
    expect(lines.at(-1)).toMatchObject({ reason: 'tenant' });
    expect(String(lines.at(-1)?.['hint'])).toMatch(/allowedTenants is not set/);
  });

  test('allowedTenants may be a predicate, and comes from API_ALLOWED_TENANTS', async () => {
    const predicate = { issuerBaseURL: idp.organizations, allowedTenants: (tid: string) => tid === OTHER };
    expect((await call(predicate, await token(OTHER))).status).toBe(200);
    expect((await call(predicate, await token(ALLOWED))).status).toBe(401);
    process.env['API_ALLOWED_TENANTS'] = `${OTHER}, ${ALLOWED}`;
    try {
      expect((await call({ issuerBaseURL: idp.organizations }, await token(ALLOWED))).status).toBe(200);
    } finally {
      delete process.env['API_ALLOWED_TENANTS'];
    }
  });

  test('in an issuers list, a templated entry takes only tokens of its allowed tenants', async () => {
    const before = idp.paths.length;
    const options: BearerOptions = {
      issuers: [{ issuerBaseURL: idp.organizations, allowedTenants: [ALLOWED] }],
    };
    expect((await call(options, await token(ALLOWED))).status).toBe(200);
    expect((await call(options, await token(OTHER))).status).toBe(401);
    // A token whose iss is on the IdP's host but not of the template's shape: no request at all.
    const app = buildApp('express5', { ...options, allowJWTTyp: true, audience: AUDIENCE, logger: quiet });
    const shaped = idp.paths.length;
    const odd = await token(ALLOWED, { iss: `${idp.origin}/somewhere/else/v2.0` });
    expect((await request(app).get('/api/me').set('authorization', `Bearer ${odd}`)).status).toBe(401);
    expect(idp.paths.length).toBe(shaped);
    expect(shaped).toBeGreaterThan(before);
  });

  test('an explicit templated issuer needs allowedTenants at start-up', () => {
    expect(() => bearer({ issuer: idp.template, jwksUri: `${idp.origin}/keys`, audience: AUDIENCE })).toThrow(
      new TypeError(
        '"issuer" is templated ({tenantid}): "allowedTenants" is required (a list of tenant ids, or a function)',
      ),
    );
    expect(() =>
      bearer({ issuerBaseURL: idp.organizations, audience: AUDIENCE, allowedTenants: [] }),
    ).toThrow(
      new TypeError(
        '"allowedTenants" must be a non-empty list of tenant ids (letters, digits and dashes) or a function (tid) => boolean',
      ),
    );
  });

  test('a templated document stands only for the URL it was fetched from', async () => {
    // /common/v2.0 names the same template, as at Entra ID: it stands for it.
    const common = await call(
      { issuerBaseURL: `${idp.origin}/common/v2.0`, allowedTenants: [ALLOWED] },
      await token(ALLOWED),
    );
    expect(common.status).toBe(200);
    // A document naming {tenantid}/v3.0 does not stand for /misfit/v2.0: discovery fails (503).
    const misfit = await call(
      { issuerBaseURL: `${idp.origin}/misfit/v2.0`, allowedTenants: [ALLOWED] },
      await token(ALLOWED),
    );
    expect(misfit.status).toBe(503);
  });
});
