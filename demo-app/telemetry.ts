/**
 * The demo's OpenTelemetry, off unless `OTEL` says otherwise, set up as an application would: before
 * the products are created, by registering the SDK with `@opentelemetry/api` (portcullis never
 * registers anything itself).
 *
 * `OTEL=console`: every span is printed as it ends (`ConsoleSpanExporter`), and the metrics stay in
 * memory, read by the /debug/metrics page when it is opened (a pull reader: nothing is exported, the
 * page collects). The SDK packages are imported only then, so the demo without `OTEL` loads none.
 */
import type { MetricReader } from '@opentelemetry/sdk-metrics';

/** One data point of a metric: its attributes, and its value (a histogram's count and sum). */
export interface MetricPoint {
  attributes: Record<string, unknown>;
  value: number | { count: number; sum: number | undefined };
}

export interface MetricRow {
  name: string;
  description: string;
  unit: string;
  points: MetricPoint[];
}

export interface DemoTelemetry {
  /** What was asked for, as the start-up line says it. */
  readonly description: string;
  /** The metrics now, from the in-memory reader. */
  collect(): Promise<MetricRow[]>;
}

const MODES = ['console'];

/** Set up the SDK for `OTEL`; `undefined` when it is unset (or not a mode the demo knows, said once). */
export async function startTelemetry(mode: string | undefined): Promise<DemoTelemetry | undefined> {
  if (mode === undefined || mode === '') return undefined;
  if (!MODES.includes(mode)) {
    console.warn(`OTEL=${mode}: the demo knows OTEL=console only; telemetry stays off`);
    return undefined;
  }
  const { context, metrics, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const sdkMetrics = await import('@opentelemetry/sdk-metrics');
  const { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } = await import(
    '@opentelemetry/sdk-trace-base'
  );

  // A child span (an IdP call) finds its parent across awaits only with a context manager.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] }),
  );

  /** Collects only when asked: by the page. */
  class PullReader extends sdkMetrics.MetricReader {
    protected override async onShutdown(): Promise<void> {}
    protected override async onForceFlush(): Promise<void> {}
  }
  const reader: MetricReader = new PullReader();
  metrics.setGlobalMeterProvider(new sdkMetrics.MeterProvider({ readers: [reader] }));

  return {
    description: 'spans printed here; metrics at /debug/metrics',
    async collect() {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.map((metric) => ({
          name: metric.descriptor.name,
          description: metric.descriptor.description,
          unit: metric.descriptor.unit,
          points: metric.dataPoints.map((point) => ({
            attributes: { ...point.attributes },
            value:
              typeof point.value === 'number'
                ? point.value
                : { count: point.value.count, sum: point.value.sum },
          })),
        })),
      );
    },
  };
}
