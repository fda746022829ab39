/**
 * The built-in IdP's pages: sign-in, sign-out, errors and not-found, all in one look and with no
 * external resource. oidc-provider's own defaults import a web font from Google, which would make the
 * demo's first page call a third party (and fail offline); these replace them through its hooks.
 */
import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The app's colours (demo-app/public/style.css), inline: the IdP is another site with no static files. */
const STYLE = `*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;color:#2b2118;background:#f4f1ea;margin:0;
display:grid;place-items:center;min-height:100vh;padding:1rem}
main{background:#fff;padding:2rem 2.5rem;border-radius:12px;box-shadow:0 2px 12px #0002;width:100%;max-width:24rem}
.brand{font-size:.8rem;letter-spacing:.06em;text-transform:uppercase;color:#8a7d6d;margin:0 0 .4rem}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.6rem 0 .2rem}
input{width:100%;padding:.5rem;font:inherit;border:1px solid #cfc5b6;border-radius:6px}
button,.button{display:block;margin-top:1rem;width:100%;padding:.6rem;background:#7a3e00;color:#fff;border:0;
border-radius:6px;font:inherit;text-align:center;text-decoration:none;cursor:pointer}
button.secondary{background:#fff;color:#7a3e00;border:1px solid #7a3e00;margin-top:.6rem}
a{color:#7a3e00}.err{color:#a00}.hint{color:#666;font-size:.85rem;margin-top:1rem;overflow-wrap:anywhere}
code{background:#f1ece4;padding:.05rem .3rem;border-radius:4px;overflow-wrap:anywhere}
@media (max-width:400px){main{padding:1.5rem 1.25rem}}`;

/** Which of the demo's IdPs a page belongs to: its name, and the users it offers on its sign-in page. */
export interface IdpLook {
  /** "the demo IdP", "Partner Co." */
  readonly name: string;
  /** The brand line over every page. */
  readonly brand: string;
  /** The users line under the sign-in form (HTML). */
  readonly usersHint: string;
}

export const MAIN_LOOK: IdpLook = {
  name: 'the demo IdP',
  brand: 'portcullis demo IdP',
  usersHint:
    'Demo users: <b>alice</b> / wonderland (orders:read, orders:write) and <b>bob</b> / builder (orders:read).',
};

export function page(title: string, body: string, look: IdpLook = MAIN_LOOK): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><main><p class="brand">${esc(look.brand)}</p>${body}</main></body></html>`;
}

/** `login` is what the user typed, kept after a wrong password so that only the password is retyped. */
export function loginPage(
  uid: string,
  { error, login, look = MAIN_LOOK }: { error?: string; login?: string; look?: IdpLook } = {},
): string {
  const kept = login === undefined || login === '' ? '' : ` value="${esc(login)}"`;
  return page(
    `Sign in — ${look.brand}`,
    `<h1>Sign in to ${esc(look.name)}</h1>${error ? `<p class="err" id="login-error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="login">Username</label><input id="login" name="login" autocomplete="username" required${kept}${kept ? '' : ' autofocus'}>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required${kept ? ' autofocus' : ''}>
<button type="submit">Sign in</button></form>
<p class="hint">${look.usersHint}</p>`,
    look,
  );
}

/** An interaction that is gone (expired, finished, or opened in another browser): start again at the app. */
export function expiredPage(appURL: string): string {
  return page(
    'Sign-in expired',
    `<h1>This sign-in has expired</h1><p>It took too long, or it was already finished in another tab.</p>
<a class="button" id="back-to-app" href="${esc(appURL)}/">Back to the demo app</a>`,
  );
}

export interface IdpPagesOptions {
  /** Where "back to the app" links go. */
  appURL: string;
  /** Which IdP the pages are of. @default MAIN_LOOK */
  look?: IdpLook;
  /** A hint under an error (say, how to register a redirect URI), or undefined. */
  errorHint?: (out: ErrorOut) => string | undefined;
}

/**
 * oidc-provider's page hooks (`features.rpInitiatedLogout.logoutSource` and `postLogoutSuccessSource`,
 * `renderError`) and a not-found middleware for `provider.use()`.
 */
export function idpPages({ appURL, errorHint, look = MAIN_LOOK }: IdpPagesOptions) {
  const back = `<a class="button" href="${esc(appURL)}/">Back to the demo app</a>`;
  return {
    /** `form` is oidc-provider's hidden form (its `xsrf` field); the buttons submit it by its id. */
    logoutSource(ctx: KoaContextWithOIDC, form: string): void {
      const account = ctx.oidc.session?.accountId;
      ctx.type = 'html';
      ctx.body = page(
        `Sign out — ${look.brand}`,
        `<h1>Sign out of ${esc(look.name)}?</h1>
<p>${account === undefined ? 'You are signed in here.' : `You are signed in here as <b>${esc(account)}</b>.`}
Signing out ends your session here: the next app that sends you to this IdP asks for your password again.</p>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>`,
        look,
      );
    },

    /** Shown only when the app gave no post_logout_redirect_uri (the demo app always does). */
    postLogoutSuccessSource(ctx: KoaContextWithOIDC): void {
      ctx.type = 'html';
      ctx.body = page(`Signed out — ${look.brand}`, `<h1>You are signed out</h1>${back}`, look);
    },

    renderError(ctx: KoaContextWithOIDC, out: ErrorOut): void {
      const hint = errorHint?.(out);
      ctx.type = 'html';
      ctx.body = page(
        `Error — ${look.brand}`,
        `<h1>Something went wrong</h1><p><code>${esc(out.error)}</code>: ${esc(out.error_description ?? '')}</p>
${hint === undefined ? '' : `<p class="hint">${esc(hint)}</p>`}${back}`,
        look,
      );
    },

    /** For `provider.use()`: runs around oidc-provider's router; a path it does not know gets a page. */
    async notFound(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> {
      await next();
      if (ctx.status !== 404 || ctx.body != null || !ctx.accepts('html')) return;
      ctx.type = 'html';
      ctx.body = page(
        `Not found — ${look.brand}`,
        `<h1>Page not found</h1><p>This IdP has no page here.</p>${back}`,
        look,
      );
      ctx.status = 404; // set after the body, which Koa would otherwise turn into a 200
    },
  };
}
