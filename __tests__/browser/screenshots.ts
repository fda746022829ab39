/**
 * The demo's pages at a desktop width (1280 px) and a phone's (375 px): home signed out, the IdP's
 * sign-in page (and after a wrong password), the profile after an API call and after bob's 403, the
 * IdP's logout confirmation, and the 404 page. At each stop the page must not be wider than the
 * screen (no sideways scrolling on a phone), and a screenshot is written: into `docs/screenshots/`
 * with `SCREENSHOTS=1 npm run test:browser` (the ones docs/demo.md shows), else into .artifacts/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

export const WIDTHS = [1280, 375] as const;

/**
 * Fails, naming the elements, when anything sticks out past the right edge of the viewport, or its
 * text spills out of its own box (a long word in a narrow table cell) where nothing scrolls it.
 */
async function fitsTheScreen(page: Page, name: string, width: number): Promise<void> {
  // No named function inside: tsx (esbuild keepNames) would wrap it in a __name() the page lacks.
  const found = await page.evaluate(() => {
    const viewport = document.documentElement.clientWidth;
    const wide = Array.from(document.querySelectorAll('body *')).filter(
      (el) =>
        el.getBoundingClientRect().right > viewport + 1 ||
        (el.clientWidth > 0 &&
          el.scrollWidth > el.clientWidth + 1 &&
          getComputedStyle(el).overflowX === 'visible'),
    );
    return {
      scrollWidth: document.documentElement.scrollWidth,
      viewport,
      wide: wide
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}`),
    };
  });
  assert.ok(
    found.scrollWidth <= found.viewport && found.wide.length === 0,
    `${name} at ${width} px does not fit: ${JSON.stringify(found)}`,
  );
}

async function signIn(page: Page, user: string, password: string): Promise<void> {
  await page.fill('#login', user);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function takeScreenshots(
  newContext: (options: { viewport: { width: number; height: number } }) => Promise<BrowserContext>,
  baseURL: string,
  dir: string,
): Promise<void> {
  for (const width of WIDTHS) {
    // A phone's screen is taller than it is wide; a desktop's, the other way round.
    const context = await newContext({ viewport: { width, height: width < 600 ? 740 : 800 } });
    const page = await context.newPage();
    const shot = async (name: string) => {
      await fitsTheScreen(page, name, width);
      await page.screenshot({ path: join(dir, `${name}-${width}.png`), fullPage: true, type: 'png' });
    };
    try {
      await page.goto(`${baseURL}/`);
      await shot('home');
      await page.getByRole('link', { name: 'Log in' }).first().click();
      await page.waitForURL(/127\.0\.0\.1:\d+\/interaction\//);
      await shot('idp-login');
      await signIn(page, 'alice', 'not-her-password');
      await page.waitForSelector('#login-error');
      await shot('idp-login-error');
      await page.fill('#password', 'wonderland');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${baseURL}/profile`);
      await page.click('#create-order');
      await page.waitForSelector('#api-result');
      await shot('profile-api');
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(/127\.0\.0\.1:\d+\//);
      await shot('idp-logout');
      await page.getByRole('button', { name: /yes, sign me out/i }).click();
      await page.waitForURL(`${baseURL}/`);

      await page.getByRole('link', { name: 'Log in' }).first().click();
      await page.waitForURL(/127\.0\.0\.1:\d+\/interaction\//);
      await signIn(page, 'bob', 'builder');
      await page.waitForURL(`${baseURL}/profile`);
      await page.click('#create-order');
      await page.waitForSelector('#api-result.denied');
      await shot('profile-403');

      await page.goto(`${baseURL}/no-such-page`);
      await shot('not-found');
    } finally {
      await context.close();
    }
  }
}
