/**
 * OpenTelemetry metrics, derived from the events: every event type is mapped here (the compiler
 * checks that none is forgotten), so a product only emits its events and gets its metrics.
 *
 * Attributes are low-cardinality names and codes (grant, outcome, reason, cache result, the IdP's
 * host): never a token, a claim value, a user or a URL path, so a metric backend can keep them all.
 * Durations are in seconds, as OpenTelemetry's semantic conventions have them.
 */
import type { Attributes, Counter, Histogram, Meter, MeterProvider } from '@opentelemetry/api';
import type { EventNamed, PortcullisEvent, PortcullisEventType } from './events.js';
import { ObservedCounter } from './observed-counter.js';
import type { OtelApi } from './otel.js';

/** The counters: name, unit, description. */
export const COUNTERS = {
  'portcullis.agent.token.requests': ['{request}', 'serviceAgent() token requests, by grant and outcome'],
  'portcullis.agent.token.retries': ['{retry}', 'serviceAgent() token requests tried again'],
  'portcullis.agent.cache.errors': ['{error}', 'Shared token cache failures, by operation'],
  'portcullis.agent.call.retries': ['{retry}', 'Calls sent again by serviceAgent(), by reason'],
  'portcullis.signin.logins': ['{login}', 'auth() logins started and finished, by outcome'],
  'portcullis.signin.refreshes': ['{refresh}', 'auth() token refreshes, by outcome'],
  'portcullis.signin.logouts': ['{logout}', 'auth() logouts, RP-initiated and back-channel'],
  'portcullis.idp.discovery.fetches': ['{fetch}', 'Discovery documents fetched, by outcome'],
  'portcullis.idp.jwks.fetches': ['{fetch}', 'JWKS fetches, by cause and outcome'],
  'portcullis.idp.introspections': ['{introspection}', 'Token introspections, by result and cache'],
  'portcullis.idp.token.requests': ['{request}', 'auth() token requests, by grant and outcome'],
} as const;

/** One per request or call: observed rather than counted (observed-counter.ts). */
const OBSERVED = {
  'portcullis.bearer.verifications': new ObservedCounter(
    'portcullis.bearer.verifications',
    '{verification}',
    'bearer() verdicts, by outcome and reason',
  ),
  'portcullis.agent.cache.lookups': new ObservedCounter(
    'portcullis.agent.cache.lookups',
    '{lookup}',
    'serviceAgent() token lookups, by result and source',
  ),
};

/** The histograms (seconds): name, description. */
export const HISTOGRAMS = {
  'portcullis.agent.token.request.duration': 'serviceAgent() token requests, retries included',
  'portcullis.bearer.verification.duration': 'bearer() verification of one request',
  'portcullis.signin.login.duration': 'auth() logins, from the start to the session',
  'portcullis.signin.refresh.duration': 'auth() token refreshes',
  'portcullis.idp.token.request.duration': 'auth() token requests (code exchange, refresh)',
  // OpenTelemetry's semantic conventions, for every call to an IdP (see spans.ts).
  'http.client.request.duration': 'Duration of HTTP client requests.',
} as const;

type CounterName = keyof typeof COUNTERS;
type HistogramName = keyof typeof HISTOGRAMS;
type ObservedName = keyof typeof OBSERVED;

/** Bucket boundaries (seconds) for work from a cached verdict (sub-millisecond) to a slow IdP. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A histogram's value, for the callers that record outside an event (the IdP's HTTP calls). */
export interface Recorder {
  count(name: CounterName, attributes: Attributes): void;
  /** `count` for the hot paths: `key` names the series whose attributes are `attributes`. */
  observe(name: ObservedName, key: string, attributes: Attributes): void;
  seconds(name: HistogramName, ms: number, attributes: Attributes): void;
}

type Mapping = {
  readonly [T in PortcullisEventType]: (event: EventNamed<T>, r: Recorder) => void;
};

/** OpenTelemetry's `error.type` for an error without a known name. */
const OTHER = '_OTHER';

/** The IdP's host, not its URL: one series per IdP. */
function host(url: string): string {
  return URL.canParse(url) ? new URL(url).host : 'unknown';
}

const MAPPING: Mapping = {
  'agent.token.fetched': (e, r) => agentTokenRequest(e.grant, e.durationMs, false, r),
  'agent.token.refreshed': (e, r) => agentTokenRequest(e.grant, e.durationMs, true, r),
  'agent.token.failed': (e, r) => agentTokenRequest(e.grant, e.durationMs, e.background, r, e.code),
  'agent.token.retrying': (_e, r) => r.count('portcullis.agent.token.retries', {}),
  'agent.cache.hit': (e, r) => r.observe('portcullis.agent.cache.lookups', e.source, LOOKUP[e.source]),
  'agent.cache.missed': (_e, r) => r.observe('portcullis.agent.cache.lookups', 'miss', LOOKUP.miss),
  'agent.cache.failed': (e, r) =>
    r.count('portcullis.agent.cache.errors', { 'portcullis.cache.operation': e.operation }),
  'agent.call.retried': (e, r) =>
    r.count('portcullis.agent.call.retries', { 'portcullis.retry.reason': e.reason }),

  'bearer.accepted': (e, r) => {
    const a: Attributes = { 'portcullis.outcome': 'accepted', 'portcullis.auth.scheme': e.scheme };
    const cache = e.cached === undefined ? undefined : e.cached ? 'hit' : 'miss';
    if (cache !== undefined) a['portcullis.cache.result'] = cache;
    verification(`accepted ${e.scheme} ${cache}`, a, e.durationMs, r);
  },
  'bearer.rejected': (e, r) =>
    verification(
      `rejected ${e.reason}`,
      { 'portcullis.outcome': 'rejected', 'portcullis.reason': e.reason },
      e.durationMs,
      r,
    ),
  'bearer.failed': (e, r) =>
    verification(
      `failed ${e.code}`,
      { 'portcullis.outcome': 'failed', 'error.type': e.code },
      e.durationMs,
      r,
    ),

  'signin.login.started': (e, r) =>
    r.count('portcullis.signin.logins', { 'portcullis.outcome': 'started', 'portcullis.silent': e.silent }),
  'signin.login.completed': (e, r) => {
    const a = { 'portcullis.outcome': 'success' };
    r.count('portcullis.signin.logins', a);
    if (e.durationMs !== undefined) r.seconds('portcullis.signin.login.duration', e.durationMs, a);
  },
  'signin.login.declined': (_e, r) =>
    r.count('portcullis.signin.logins', { 'portcullis.outcome': 'declined', 'portcullis.silent': true }),
  'signin.login.failed': (e, r) =>
    r.count('portcullis.signin.logins', {
      'portcullis.outcome': 'failure',
      'portcullis.reason': e.reason,
      'error.type': e.code ?? OTHER,
    }),
  'signin.refresh.completed': (e, r) => {
    const a = { 'portcullis.outcome': 'success' };
    r.count('portcullis.signin.refreshes', a);
    r.seconds('portcullis.signin.refresh.duration', e.durationMs, a);
  },
  'signin.refresh.failed': (e, r) => {
    const a = { 'portcullis.outcome': 'failure', 'error.type': e.code };
    r.count('portcullis.signin.refreshes', a);
    r.seconds('portcullis.signin.refresh.duration', e.durationMs, a);
  },
  'signin.logout.completed': (e, r) =>
    r.count('portcullis.signin.logouts', {
      'portcullis.logout.kind': 'rp',
      'portcullis.idp_logout': e.idpLogout,
    }),
  'signin.backchannel_logout.completed': (_e, r) =>
    r.count('portcullis.signin.logouts', {
      'portcullis.logout.kind': 'backchannel',
      'portcullis.outcome': 'success',
    }),
  'signin.backchannel_logout.rejected': (e, r) =>
    r.count('portcullis.signin.logouts', {
      'portcullis.logout.kind': 'backchannel',
      'portcullis.outcome': 'failure',
      'portcullis.reason': e.reason,
      'error.type': e.code ?? OTHER,
    }),

  'idp.discovery.fetched': (e, r) =>
    r.count('portcullis.idp.discovery.fetches', {
      'server.address': host(e.url),
      'portcullis.outcome': 'success',
    }),
  'idp.discovery.failed': (e, r) =>
    r.count('portcullis.idp.discovery.fetches', {
      'server.address': host(e.url),
      'portcullis.outcome': 'failure',
      'error.type': e.code,
    }),
  'idp.jwks.fetched': (e, r) =>
    r.count('portcullis.idp.jwks.fetches', {
      'server.address': host(e.url),
      'portcullis.jwks.cause': e.cause,
      'portcullis.outcome': 'success',
    }),
  'idp.jwks.failed': (e, r) =>
    r.count('portcullis.idp.jwks.fetches', {
      'server.address': host(e.url),
      'portcullis.outcome': 'failure',
      'error.type': e.code,
    }),
  'idp.introspection.completed': (e, r) =>
    r.count('portcullis.idp.introspections', {
      'server.address': host(e.url),
      'portcullis.introspection.active': e.active,
      'portcullis.cache.result': e.cached ? 'hit' : 'miss',
    }),
  'idp.introspection.failed': (e, r) =>
    r.count('portcullis.idp.introspections', { 'server.address': host(e.url), 'error.type': e.code }),
  'idp.token.completed': (e, r) =>
    tokenRequest(IDP_TOKEN, { 'server.address': host(e.url) }, e.grant, e.durationMs, r),
  'idp.token.failed': (e, r) =>
    tokenRequest(IDP_TOKEN, { 'server.address': host(e.url) }, e.grant, e.durationMs, r, e.code),
};

const AGENT_TOKEN = ['portcullis.agent.token.requests', 'portcullis.agent.token.request.duration'] as const;
const IDP_TOKEN = ['portcullis.idp.token.requests', 'portcullis.idp.token.request.duration'] as const;

function agentTokenRequest(grant: string, ms: number, background: boolean, r: Recorder, code?: string): void {
  tokenRequest(AGENT_TOKEN, { 'portcullis.background': background }, grant, ms, r, code);
}

/** A token request's count and duration, by grant and outcome (and `a`, the product's own). */
function tokenRequest(
  [counter, histogram]: readonly [CounterName, HistogramName],
  a: Attributes,
  grant: string,
  ms: number,
  r: Recorder,
  code?: string,
): void {
  a['portcullis.grant_type'] = grant;
  a['portcullis.outcome'] = code === undefined ? 'success' : 'failure';
  if (code !== undefined) a['error.type'] = code;
  r.count(counter, a);
  r.seconds(histogram, ms, a);
}

/** The series of the agent's token lookups. */
const LOOKUP = {
  memory: { 'portcullis.cache.result': 'hit', 'portcullis.cache.source': 'memory' },
  cache: { 'portcullis.cache.result': 'hit', 'portcullis.cache.source': 'cache' },
  miss: { 'portcullis.cache.result': 'miss' },
} as const;

/** A verdict's count and duration; `key` stands for its attributes. */
function verification(key: string, a: Attributes, ms: number, r: Recorder): void {
  r.observe('portcullis.bearer.verifications', key, a);
  r.seconds('portcullis.bearer.verification.duration', ms, a);
}

/**
 * The instruments of the current meter provider. The metrics API has no proxy provider: a meter
 * taken before the application registered its SDK would stay a no-op, so the provider is looked up
 * at each record (a global read) and the instruments made again when it changes.
 */
let provider: MeterProvider | undefined;
let meter: Meter | undefined;
const counters = new Map<string, Counter>();
const histograms = new Map<string, Histogram>();

export const recorder: Recorder = {
  count(name, attributes) {
    let counter = counters.get(name);
    if (counter === undefined) {
      const [unit, description] = COUNTERS[name];
      counter = meter!.createCounter(name, { unit, description });
      counters.set(name, counter);
    }
    counter.add(1, attributes);
  },
  observe(name, key, attributes) {
    OBSERVED[name].add(meter!, key, attributes);
  },
  seconds(name, ms, attributes) {
    let histogram = histograms.get(name);
    if (histogram === undefined) {
      histogram = meter!.createHistogram(name, {
        unit: 's',
        description: HISTOGRAMS[name],
        advice: { explicitBucketBoundaries: BUCKETS },
      });
      histograms.set(name, histogram);
    }
    histogram.record(ms / 1000, attributes);
  },
};

/** The meter of the current provider, remade (with its instruments) when the provider changed. */
export function portcullisMeter(api: OtelApi): Meter {
  const current = api.metrics.getMeterProvider();
  if (current !== provider || meter === undefined) {
    provider = current;
    meter = current.getMeter('portcullis');
    counters.clear();
    histograms.clear();
  }
  return meter;
}

/**
 * Whether metrics are recorded anywhere: a meter provider is registered (until then, the API answers
 * with its no-op meter). Lets a hot path skip building an event that nothing else wants.
 */
export function metricsWanted(api: OtelApi): boolean {
  try {
    return portcullisMeter(api) !== api.createNoopMeter?.();
  } catch {
    return false;
  }
}

/** Record what `event` counts for. Never throws: telemetry must not break a call. */
export function recordMetrics(api: OtelApi, event: PortcullisEvent): void {
  try {
    portcullisMeter(api);
    (MAPPING[event.type] as (e: PortcullisEvent, r: Recorder) => void)(event, recorder);
  } catch {
    // A broken SDK or exporter is the application's to see in its own logs.
  }
}
