/**
 * The agent's events: the `agent.…` (and `idp.…`) events of the one event scheme
 * (protocol/observability/events.ts), told to `onEvent`, the `portcullis:agent` channel and the
 * OpenTelemetry metrics. Payloads never carry a token or secret: the cache key is a hash, errors are
 * portcullis errors whose messages name checks, not values.
 */

import type { Emit } from '../protocol/observability/emitter.js';
import type { AgentEvent } from '../protocol/observability/events.js';

/** What `serviceAgent({ onEvent })` receives: the `agent.…` events (see `AgentEvent`). */
export type ServiceAgentEvent = AgentEvent;

export type EmitEvent = Emit<AgentEvent>;
