/** Server-rendered HTML: small, tidy, readable without JavaScript (the CSP allows none). */

export const esc = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface PageContext {
  title: string;
  user?: Record<string, unknown> | undefined;
  csrfToken: string;
}

export function layout(ctx: PageContext, body: string): string {
  const nav = ctx.user
    ? `<span>Signed in as <b>${esc(ctx.user['name'] ?? ctx.user['sub'])}</b></span>
       <a href="/profile">Profile</a>
       <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${esc(ctx.csrfToken)}"><button>Log out</button></form>`
    : `<a class="button" href="/login?returnTo=/profile">Log in</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(ctx.title)} · portcullis demo</title><link rel="stylesheet" href="/static/style.css"></head>
<body><header><a href="/" class="brand">portcullis demo</a><nav>${nav}</nav></header>
<main>${body}</main>
<footer>Sign-in with <code>auth()</code> · API with <code>bearer()</code> · worker with <code>serviceAgent()</code></footer>
</body></html>`;
}

export function home(ctx: PageContext): string {
  return layout(
    ctx,
    `<h1>Orders, guarded by portcullis</h1>
<p>This app signs you in with OpenID Connect (authorization code + PKCE), keeps your tokens on the server,
calls its own API with your access token, and runs a worker that calls the API with its own
client-credentials token.</p>
${ctx.user ? '<p><a class="button" href="/profile">Go to your profile</a></p>' : '<p><a class="button" href="/login?returnTo=/profile">Log in</a></p>'}
<h2>Worker</h2>
<p>The worker is a service: no user, its own token from the client-credentials grant, sent with axios.</p>
<form method="post" action="/worker/run"><input type="hidden" name="_csrf" value="${esc(ctx.csrfToken)}"><button>Run the worker</button></form>`,
  );
}

export interface ApiResult {
  label: string;
  status: number;
  body: unknown;
}

function result(r: ApiResult | undefined): string {
  if (r === undefined) return '';
  const ok = r.status < 400;
  return `<section class="result ${ok ? 'ok' : 'denied'}" id="api-result"><h3>${esc(r.label)}: <span class="status">${r.status}</span></h3>
<pre>${esc(JSON.stringify(r.body, null, 2))}</pre></section>`;
}

export function profile(
  ctx: PageContext & {
    claims: Record<string, unknown>;
    expiresAt: number | undefined;
    tokenType: string | undefined;
    scopes: string[];
    apiResult?: ApiResult | undefined;
  },
): string {
  const rows = Object.entries(ctx.claims)
    .map(
      ([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`,
    )
    .join('');
  const expires =
    ctx.expiresAt === undefined
      ? 'unknown'
      : `${new Date(ctx.expiresAt * 1000).toISOString()} (in ${Math.max(0, ctx.expiresAt - Math.floor(Date.now() / 1000))} s)`;
  const csrf = `<input type="hidden" name="_csrf" value="${esc(ctx.csrfToken)}">`;
  return layout(
    ctx,
    `<h1>Your profile</h1>
<section><h2>Claims from your ID token</h2><table id="claims">${rows}</table></section>
<section><h2>Your access token</h2>
<p>Kept on the server; your browser only holds the session cookie.</p>
<dl><dt>Type</dt><dd id="token-type">${ctx.tokenType?.toLowerCase() === 'dpop' ? 'DPoP: bound to a key this server holds for your session' : esc(ctx.tokenType ?? 'unknown')}</dd>
<dt>Expires</dt><dd id="expires-at">${esc(expires)}</dd>
<dt>Scopes</dt><dd id="scopes">${ctx.scopes.map((s) => `<code>${esc(s)}</code>`).join(' ') || 'none'}</dd></dl>
<form method="post" action="/refresh">${csrf}<button id="refresh">Refresh tokens</button></form></section>
<section><h2>Call the orders API as you</h2>
<div class="row"><form method="post" action="/orders/list">${csrf}<button id="list-orders">List orders (orders:read)</button></form>
<form method="post" action="/orders/create">${csrf}<button id="create-order">Create an order (orders:write)</button></form></div>
${result(ctx.apiResult)}</section>`,
  );
}

export function workerPage(
  ctx: PageContext & { apiResult: ApiResult; tokenExpiresIn: number | undefined },
): string {
  return layout(
    ctx,
    `<h1>Worker run</h1><p>The worker called <code>GET /api/orders</code> with its client-credentials token
(cached; it expires in ${esc(ctx.tokenExpiresIn ?? '?')} s).</p>${result(ctx.apiResult)}<p><a href="/">Back</a></p>`,
  );
}

export function errorPage(ctx: PageContext & { status: number; code: string; message: string }): string {
  return layout(
    ctx,
    `<h1>Something went wrong (${ctx.status})</h1><p><code>${esc(ctx.code)}</code>: ${esc(ctx.message)}</p><p><a href="/">Home</a></p>`,
  );
}
