/**
 * One event, three listeners: the product's `onEvent` hook, its `node:diagnostics_channel` channel
 * and the OpenTelemetry metrics. Each costs nothing when absent: no hook, a channel without
 * subscribers (one property read) and no `@opentelemetry/api` (one variable read).
 */
import { productChannel } from './channels.js';
import type { EventOf, Product } from './events.js';
import { recordMetrics } from './metrics.js';
import { loadOpenTelemetry, openTelemetry } from './otel.js';

export type Emit<E> = (event: E) => void;

/**
 * The emitter of one product instance. Creating it starts the (one, shared) attempt to load
 * `@opentelemetry/api`, so that it is there by the first token request or login.
 */
export function createEmitter<P extends Product>(
  product: P,
  hook: ((event: EventOf<P>) => void) | undefined,
): Emit<EventOf<P>> {
  const channel = productChannel(product);
  void loadOpenTelemetry();
  return function emit(event) {
    if (hook !== undefined) {
      try {
        hook(event);
      } catch {
        // The hook is the application's: its failure is theirs to log, never a failed call.
      }
    }
    if (channel.hasSubscribers) channel.publish(event);
    const api = openTelemetry();
    if (api) recordMetrics(api, event);
    // The first events of a process (the first call's cache miss) may come while the import is under
    // way: they are recorded once it is done, not lost.
    else if (api === undefined)
      void loadOpenTelemetry().then((loaded) => loaded && recordMetrics(loaded, event));
  };
}
