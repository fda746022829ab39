/** returnTo: only same-origin relative paths; every open-redirect variant falls back to "/". */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { safeReturnTo } from '../../lib/signin/return-to.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

const base = new URL('https://app.example.com');
const attacks = [
  'https://evil.example/',
  'http://evil.example',
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '\\/evil.example',
  '/%2F%2Fevil.example',
  '/%2f%2fevil.example',
  '%2F%2Fevil.example',
  '/%5Cevil.example',
  '/%252F%252Fevil.example',
  '/%5C%5Cevil.example',
  'javascript:alert(1)',
  'data:text/html,hi',
  'http:evil.example',
  '/\tevil.example',
  '/\u0000evil',
  '/\r\nLocation: https://evil.example',
  'evil.example',
  '',
  `/${'a'.repeat(5000)}`,
  '/%E0%A4%A',
  '/.//evil.example',
  '/a/..//evil.example',
  '/%2E//evil.example',
];

describe('safeReturnTo', () => {
  test.each(attacks)('refuses %j', (value) => {
    expect(safeReturnTo(value, base)).toBeUndefined();
  });

  test.each([
    ['/profile', '/profile'],
    ['/a/b?x=1&y=2#frag', '/a/b?x=1&y=2#frag'],
    ['/search?q=%2F%2Fsafe-as-a-query', '/search?q=%2F%2Fsafe-as-a-query'],
    ['/über', '/%C3%BCber'],
  ])('keeps %j', (value, expected) => {
    expect(safeReturnTo(value, base)).toBe(expected);
  });

  test('refuses non-strings', () => {
    expect(safeReturnTo(['/a'], base)).toBeUndefined();
    expect(safeReturnTo(undefined, base)).toBeUndefined();
  });
});

describe('returnTo through a real login', () => {
  let idp: TestIdp;
  let app: SigninApp;
  beforeAll(async () => {
    idp = await startIdp();
    app = await startSigninApp(idp);
  });
  afterAll(async () => {
    await app.close();
    await idp.close();
  });

  test.each(['//evil.example', '/\\evil.example', 'https://evil.example/', '/%2F%2Fevil.example'])(
    'an attack (%j) lands on the home page',
    async (returnTo) => {
      const { result } = await loginAs(new TestBrowser(), app, { returnTo });
      expect(result.location).toBe(`${app.baseURL}/`);
    },
  );

  test('per-call login options: returnTo and extra authorization parameters', async () => {
    const browser = new TestBrowser();
    const res = await browser.get(`${app.baseURL}/login?returnTo=/orders%3Fpage%3D2`);
    const { result } = await (await import('../helpers/browser.js')).signInAtIdp(browser, res.location!);
    expect(result!.location).toBe(`${app.baseURL}/orders?page=2`);
  });
});
