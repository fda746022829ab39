/**
 * Log out at the test IdP's own page, confirmed as the user would, and collect what the IdP says of
 * its back-channel logout deliveries: 'ok' for each success, the error message for each failure.
 */
import type { TestBrowser } from './browser.js';
import type { TestIdp } from './idp.js';

export async function logoutAtIdp(idp: TestIdp, browser: TestBrowser): Promise<string[]> {
  const delivered: string[] = [];
  idp.provider.on('backchannel.success', () => delivered.push('ok'));
  idp.provider.on('backchannel.error', (_ctx, err) => delivered.push(String((err as Error).message)));
  const page = await browser.get(`${idp.issuer}/session/end?client_id=web`);
  const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
  if (action === undefined || xsrf === undefined) throw new Error(`no logout form at the IdP: ${page.body}`);
  await browser.post(new URL(action, idp.issuer).href, { xsrf, logout: 'yes' });
  return delivered;
}
