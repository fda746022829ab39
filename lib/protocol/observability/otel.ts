/**
 * `@opentelemetry/api`, when the application has it: an optional peer dependency, loaded once and
 * lazily (the first product created starts the load), never required. Where it is missing, the
 * import fails once and everything here answers "no telemetry" from a variable read: nothing is
 * loaded, and nothing measurable is added to a call.
 *
 * The import is dynamic so that the ESM and CommonJS builds load it alike, and so that it resolves
 * in the application's module graph: the API keeps its providers in one global per process, so the
 * copy we load sees the SDK the application registered.
 */
import type * as OpenTelemetryApi from '@opentelemetry/api';

export type OtelApi = typeof OpenTelemetryApi;

type Importer = () => Promise<unknown>;

/** The parts of the API we use: a copy without them (a stub, a far older major) counts as absent. */
function usable(mod: unknown): OtelApi | null {
  const candidates = [mod, (mod as { default?: unknown } | null)?.default];
  for (const candidate of candidates) {
    const api = candidate as Partial<OtelApi> | null | undefined;
    if (
      typeof api?.trace?.getTracer === 'function' &&
      typeof api.metrics?.getMeterProvider === 'function' &&
      typeof api.context?.active === 'function'
    ) {
      return api as OtelApi;
    }
  }
  return null;
}

export interface OtelLoader {
  /** Start loading, once; resolves to the API, or `null` when it is not installed. */
  load(): Promise<OtelApi | null>;
  /**
   * The synchronous check of every hot path: the API once loaded, `null` once known to be missing,
   * `undefined` while the first load is under way.
   */
  now(): OtelApi | null | undefined;
}

export function otelLoader(importer: Importer): OtelLoader {
  let api: OtelApi | null | undefined;
  let loading: Promise<OtelApi | null> | undefined;
  return {
    load() {
      loading ??= importer().then(
        (mod) => {
          api = usable(mod);
          return api;
        },
        () => {
          api = null;
          return null;
        },
      );
      return loading;
    },
    now: () => api,
  };
}

/** The process's loader: one attempt, shared by every product. */
const shared = otelLoader(() => import('@opentelemetry/api'));

export const loadOpenTelemetry = shared.load;
export const openTelemetry = shared.now;
