/** Server-rendered HTML: small, tidy, readable without JavaScript (the CSP allows none). */

export const esc = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface PageContext {
  title: string;
  user?: Record<string, unknown> | undefined;
  /** The IdP the user signed in with: its id (`req.oidc.provider`) and its name. */
  provider?: { id: string; label: string } | undefined;
  csrfToken: string;
  /** No "Log in" link: on a page rendered before auth() ran, where who is signed in is unknown. */
  hideNav?: boolean;
}

const UTC_DATE = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
});
const UTC_TIME = new Intl.DateTimeFormat('en-GB', { timeStyle: 'medium', timeZone: 'UTC' });

/** "12 Mar 2025, 10:04 UTC": the server cannot know the reader's zone (no script), so it says which. */
export const formatDate = (iso: string): string => `${UTC_DATE.format(new Date(iso))} UTC`;

/** When an access token expires, and in how long: "14:03:12 UTC (in 300 s)". */
export function expiry(expiresAt: number | undefined): string {
  if (expiresAt === undefined) return 'unknown';
  const left = Math.max(0, expiresAt - Math.floor(Date.now() / 1000));
  return `${UTC_TIME.format(new Date(expiresAt * 1000))} UTC (in ${left} s)`;
}

export function layout(ctx: PageContext, body: string): string {
  const nav = ctx.user
    ? `<span><span class="wide-only">Signed in as </span><b>${esc(ctx.user['name'] ?? ctx.user['sub'])}</b></span>
       <a href="/profile">Profile</a>
       <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${esc(ctx.csrfToken)}"><button>Log out</button></form>`
    : `<a class="button" href="/login?returnTo=/profile">Log in</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(ctx.title)} · portcullis demo</title><link rel="stylesheet" href="/static/style.css"></head>
<body><header><a href="/" class="brand">portcullis demo</a><nav>${ctx.hideNav ? '' : nav}</nav></header>
<main>${body}</main>
<footer>Sign-in with <code>auth()</code> · API with <code>bearer()</code> · worker with <code>serviceAgent()</code></footer>
</body></html>`;
}

/** One IdP of the provider chooser: `/login?provider=<id>`. */
export interface ProviderChoice {
  id: string;
  label: string;
}

/** One login link per IdP, or the one login link. */
function loginLinks(providers: readonly ProviderChoice[] | undefined): string {
  if (providers === undefined) return '<p><a class="button" href="/login?returnTo=/profile">Log in</a></p>';
  const links = providers
    .map(
      (p) =>
        `<a class="button" id="login-${esc(p.id)}" href="/login?provider=${encodeURIComponent(p.id)}&amp;returnTo=/profile">Log in with ${esc(p.label)}</a>`,
    )
    .join('\n');
  return `<p>Sign in with either IdP: the app knows both, and its API accepts tokens from both.</p>
<div class="row">${links}</div>`;
}

export function home(ctx: PageContext & { providers?: readonly ProviderChoice[] | undefined }): string {
  return layout(
    ctx,
    `<h1>Orders, guarded by portcullis</h1>
<p>This app signs you in with OpenID Connect (authorization code + PKCE), keeps your tokens on the server,
calls its own API with your access token, and runs a worker that calls the API with its own
client-credentials token.</p>
${ctx.user ? '<p><a class="button" href="/profile">Go to your profile</a></p>' : loginLinks(ctx.providers)}
<h2>Worker</h2>
<p>The worker is a service: no user, its own token from the client-credentials grant, sent with axios.</p>
<form method="post" action="/worker/run"><input type="hidden" name="_csrf" value="${esc(ctx.csrfToken)}"><button>Run the worker</button></form>`,
  );
}

export interface ApiResult {
  label: string;
  status: number;
  body: unknown;
  /** What happened, in a sentence for a person; the JSON below it is for the curious. */
  message?: string | undefined;
  /** The answer's WWW-Authenticate header (RFC 6750 §3), shown above the body as it came. */
  challenge?: string | undefined;
}

/** An order as the orders API returns it. */
export interface Order {
  id: number;
  item: string;
  by: string;
  /** ISO 8601, UTC. */
  at: string;
}

function isOrder(value: unknown): value is Order {
  const o = value as Partial<Order> | null;
  return typeof o === 'object' && o !== null && typeof o.id === 'number' && typeof o.at === 'string';
}

/** The orders in an answer of the API: `{ orders: [...] }` for a list, `{ order }` for a new one. */
function ordersIn(body: unknown): Order[] {
  if (typeof body !== 'object' || body === null) return [];
  const { orders, order } = body as { orders?: unknown; order?: unknown };
  return (Array.isArray(orders) ? orders : [order]).filter(isOrder);
}

function ordersTable(orders: Order[]): string {
  const rows = orders
    .map(
      (o) =>
        `<tr><td>${o.id}</td><td>${esc(o.item)}</td><td>${esc(o.by)}</td><td><time datetime="${esc(o.at)}">${esc(formatDate(o.at))}</time></td></tr>`,
    )
    .join('');
  return `<table class="orders"><thead><tr><th>#</th><th>Item</th><th>By</th><th>Placed</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function result(r: ApiResult | undefined): string {
  if (r === undefined) return '';
  const ok = r.status < 400;
  const orders = ordersIn(r.body);
  // A refusal's JSON (and its WWW-Authenticate) is the lesson, so it is open; a success's is folded.
  return `<section class="result ${ok ? 'ok' : 'denied'}" id="api-result"><h3>${esc(r.label)}: <span class="status">${r.status}</span></h3>
${r.message === undefined ? '' : `<p id="api-message">${esc(r.message)}</p>`}${orders.length > 0 ? ordersTable(orders) : ''}
<details${ok ? '' : ' open'}><summary>Response</summary><pre>${r.challenge === undefined ? '' : `WWW-Authenticate: ${esc(r.challenge)}\n\n`}${esc(JSON.stringify(r.body, null, 2))}</pre></details></section>`;
}

export function profile(
  ctx: PageContext & {
    claims: Record<string, unknown>;
    expiresAt: number | undefined;
    tokenType: string | undefined;
    scopes: string[];
    apiResult?: ApiResult | undefined;
    /** Said once, after an action (a refresh). */
    notice?: string | undefined;
  },
): string {
  const rows = Object.entries(ctx.claims)
    .map(
      ([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`,
    )
    .join('');
  const csrf = `<input type="hidden" name="_csrf" value="${esc(ctx.csrfToken)}">`;
  return layout(
    ctx,
    `<h1>Your profile</h1>
${ctx.provider === undefined ? '' : `<p>Signed in with <b>${esc(ctx.provider.label)}</b>: <code>req.oidc.provider</code> is <code id="provider">${esc(ctx.provider.id)}</code>.</p>`}
<section><h2>Claims from your ID token</h2><table id="claims" class="claims">${rows}</table></section>
<section><h2>Your access token</h2>
${ctx.notice === undefined ? '' : `<p class="notice" id="notice" role="status">${esc(ctx.notice)}</p>`}
<p>Kept on the server; your browser only holds the session cookie.</p>
<dl><dt>Type</dt><dd id="token-type">${ctx.tokenType?.toLowerCase() === 'dpop' ? 'DPoP: bound to a key this server holds for your session' : esc(ctx.tokenType ?? 'unknown')}</dd>
<dt>Expires</dt><dd id="expires-at">${esc(expiry(ctx.expiresAt))}</dd>
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

/** GET /logout: logging out takes a POST with the CSRF token, so that a link or an image elsewhere cannot. */
export function logoutPage(ctx: PageContext): string {
  return layout(
    { ...ctx, hideNav: true },
    `<h1>Log out?</h1><p>Logging out takes a click here: a link cannot log you out.</p>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(ctx.csrfToken)}"><button id="confirm-logout">Log out</button></form>
<p><a href="/">No, back home</a></p>`,
  );
}

export function notFound(ctx: PageContext & { path: string }): string {
  return layout(
    ctx,
    `<h1>Page not found</h1><p id="not-found">There is no page at <code>${esc(ctx.path)}</code>.</p>
<p><a class="button" href="/">Home</a></p>`,
  );
}
