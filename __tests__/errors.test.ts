import { describe, expect, test } from '@jest/globals';
import {
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  OAuthResponseError,
  PortcullisError,
  UnauthorizedError,
} from '../lib/index.js';

describe('errors', () => {
  test('carry a stable code, a status and their class name', () => {
    const err = new PortcullisError('ERR_STATE_MISMATCH', 'state does not match', { status: 400 });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('PortcullisError');
    expect(err.code).toBe('ERR_STATE_MISMATCH');
    expect(err.status).toBe(400);
    expect(err.statusCode).toBe(400);
    expect(err.expose).toBe(true);
  });

  test('keep their cause out of JSON and inspection output', () => {
    const secret = 'super-secret-refresh-token';
    const err = new OAuthResponseError(
      'ERR_OAUTH_RESPONSE',
      'token request failed',
      { error: 'invalid_grant', error_description: 'grant expired' },
      { status: 400, cause: { token: secret } },
    );
    expect(JSON.stringify(err)).not.toContain(secret);
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'OAuthResponseError',
      code: 'ERR_OAUTH_RESPONSE',
      status: 400,
      message: 'token request failed',
      error: 'invalid_grant',
      error_description: 'grant expired',
    });
    expect(Object.keys(err)).not.toContain('cause');
    expect(err.cause).toEqual({ token: secret });
  });

  test('RFC 6750 errors build their WWW-Authenticate header', () => {
    expect(new UnauthorizedError('no token', { realm: 'api' }).wwwAuthenticate).toBe('Bearer realm="api"');
    expect(new InvalidRequestError('two tokens', { realm: 'api' }).wwwAuthenticate).toBe(
      'Bearer realm="api", error="invalid_request", error_description="two tokens"',
    );
    const invalid = new InvalidTokenError('"exp" claim timestamp check failed');
    expect(invalid.status).toBe(401);
    expect(invalid.wwwAuthenticate).toBe(
      'Bearer error="invalid_token", error_description="\\"exp\\" claim timestamp check failed"',
    );
    const scope = new InsufficientScopeError('missing scope', { scope: 'orders:write orders:read' });
    expect(scope.status).toBe(403);
    expect(scope.wwwAuthenticate).toContain('scope="orders:write orders:read"');
    expect(scope.body).toEqual({ error: 'insufficient_scope', error_description: 'missing scope' });
  });
});
