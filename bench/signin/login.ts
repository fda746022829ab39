/** One complete login through the IdP's real sign-in form, as the sign-in benches drive it. */
import { signInAtIdp, TestBrowser } from '../../__tests__/helpers/browser.js';

/** Log in at the app (`GET /login`, the IdP's forms, the callback); returns the browser, signed in. */
export async function login(baseURL: string): Promise<TestBrowser> {
  const browser = new TestBrowser();
  const start = await browser.get(`${baseURL}/login`);
  const { result } = await signInAtIdp(browser, start.location!, {
    login: `user${Math.floor(Math.random() * 1000)}`,
  });
  if (result === undefined || result.status !== 302)
    throw new Error(`login failed at ${baseURL}: ${result?.status} ${result?.body}`);
  return browser;
}
