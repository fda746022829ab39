/**
 * What `bearer()` tells about each request: a `bearer.accepted`, `bearer.rejected` or `bearer.failed`
 * event (to `onEvent`, the `portcullis:bearer` channel and OpenTelemetry's metrics) and a
 * `portcullis.bearer.verify` span. A request that nobody watches (no hook, no subscriber, no meter or
 * tracer provider registered) costs a few variable reads here: no clock, no event, no span.
 *
 * Events carry the refusal's reason, what was expected and what was received, as the log line has
 * them (claim and header values, never the token); spans and metrics carry only the reason code.
 */
import type { BearerConfig } from '../config/bearer.js';
import { BearerChallengeError, PortcullisError } from '../errors.js';
import type { AuthResult } from '../protocol/auth-result.js';
import { type BearerRefusal, refusalOf } from '../protocol/bearer-refusal.js';
import { productChannel } from '../protocol/observability/channels.js';
import { createEmitter, type Emit } from '../protocol/observability/emitter.js';
import type { BearerEvent } from '../protocol/observability/events.js';
import { metricsWanted } from '../protocol/observability/metrics.js';
import { openTelemetry } from '../protocol/observability/otel.js';
import type { OpenSpan } from '../protocol/observability/spans.js';

/** A request someone watches: when its check began, and its span if a tracer provider is registered. */
export interface Watch {
  readonly started: number;
  readonly span: OpenSpan | undefined;
}

export interface BearerTelemetry {
  /** The product's emitter, for the IdP events of its verifiers. */
  readonly emit: Emit<BearerEvent>;
  /** Start watching a request, or `undefined` when nothing would hear of it. */
  watch(span: OpenSpan | undefined): Watch | undefined;
  accepted(watch: Watch, scheme: 'bearer' | 'dpop', cached: boolean, auth: AuthResult): void;
  /** A refusal (4xx), or a token that could not be checked (5xx); anything else is not ours. */
  refused(watch: Watch, err: unknown): void;
  /** No token, and none required: the request goes on, and nothing is reported. */
  skipped(watch: Watch): void;
}

const SCHEMES = { bearer: 'Bearer', dpop: 'DPoP' } as const;

/** A refusal's detail; a challenge without one (none today) is named by its RFC 6750 code. */
function refusalFor(err: BearerChallengeError): BearerRefusal {
  const refusal = refusalOf(err);
  if (refusal !== undefined) return refusal;
  return { reason: err.error === undefined ? 'missing' : err.status === 400 ? 'request' : 'malformed' };
}

export function createBearerTelemetry(config: BearerConfig): BearerTelemetry {
  const hook = config.onEvent;
  const emit = createEmitter('bearer', hook);
  const channel = productChannel('bearer');
  const severalIssuers = config.issuerConfigs !== undefined;

  function metrics(): boolean {
    const api = openTelemetry();
    // `undefined`: still loading, at start-up; the emitter records those events once it has loaded.
    return api === undefined || (api !== null && metricsWanted(api));
  }

  return {
    emit,
    watch(span) {
      if (span === undefined && hook === undefined && !channel.hasSubscribers && !metrics()) return undefined;
      return { started: performance.now(), span };
    },
    accepted({ started, span }, scheme, cached, auth) {
      const name = SCHEMES[scheme];
      if (span !== undefined) {
        span.setAttribute('portcullis.outcome', 'accepted');
        span.setAttribute('portcullis.auth.scheme', name);
        span.setAttribute('portcullis.cache.result', cached ? 'hit' : 'miss');
        span.end();
      }
      const durationMs = performance.now() - started;
      emit(
        severalIssuers
          ? { type: 'bearer.accepted', scheme: name, cached, durationMs, issuer: auth.issuer }
          : { type: 'bearer.accepted', scheme: name, cached, durationMs },
      );
    },
    refused({ started, span }, err) {
      if (err instanceof BearerChallengeError) {
        const refusal = refusalFor(err);
        if (span !== undefined) {
          // A refused token is the client's mistake, not a failure of this server: no error status.
          span.setAttribute('portcullis.outcome', 'rejected');
          span.setAttribute('portcullis.reason', refusal.reason);
          span.end();
        }
        const status = err.status;
        const durationMs = performance.now() - started;
        emit({ ...refusal, type: 'bearer.rejected', status, error: err.error, durationMs });
      } else if (err instanceof PortcullisError && err.status >= 500) {
        if (span !== undefined) {
          span.setAttribute('portcullis.outcome', 'failed');
          span.end(err);
        }
        const durationMs = performance.now() - started;
        emit({ type: 'bearer.failed', code: err.code, status: err.status, durationMs });
      } else {
        span?.end(err); // not about the token: the application's error handler has it
      }
    },
    skipped({ span }) {
      span?.setAttribute('portcullis.outcome', 'anonymous');
      span?.end();
    },
  };
}
