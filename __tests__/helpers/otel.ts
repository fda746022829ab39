/**
 * The real OpenTelemetry 2.x SDK, set up as an application would (a context manager, a tracer
 * provider, a meter provider) with in-memory exporters, so that tests read the spans and metrics
 * portcullis produced. One per test file: the API's providers are process globals.
 */
import { inspect } from 'node:util';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A reader that exports nowhere: tests call `collect()`. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface DataPoint {
  readonly attributes: Record<string, unknown>;
  /** A counter's sum, or a histogram's `{ count, sum, … }`. */
  readonly value: unknown;
}

export interface TestTelemetry {
  spans(): ReadableSpan[];
  /** Every metric by name, with its unit and data points, as the SDK aggregated them so far. */
  metrics(): Promise<Map<string, { unit: string; points: DataPoint[] }>>;
  /** Forget the spans and start the metrics from zero (a new meter provider). */
  reset(): void;
  /** Every string a backend would store: span names, attributes, statuses, events; metric attributes. */
  strings(): Promise<string[]>;
  shutdown(): Promise<void>;
}

export function setUpTelemetry(): TestTelemetry {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(tracerProvider);
  let reader = new CollectingReader();
  const meterProviders = [new MeterProvider({ readers: [reader] })];
  metrics.setGlobalMeterProvider(meterProviders[0]!);

  const telemetry: TestTelemetry = {
    spans: () => exporter.getFinishedSpans(),
    async metrics() {
      const { resourceMetrics } = await reader.collect();
      const found = new Map<string, { unit: string; points: DataPoint[] }>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          found.set(metric.descriptor.name, {
            unit: metric.descriptor.unit,
            points: (metric.dataPoints as DataPoint[]).map((p) => ({
              attributes: p.attributes,
              value: p.value,
            })),
          });
        }
      }
      return found;
    },
    reset() {
      exporter.reset();
      reader = new CollectingReader();
      const provider = new MeterProvider({ readers: [reader] });
      meterProviders.push(provider);
      metrics.disable();
      metrics.setGlobalMeterProvider(provider);
    },
    async strings() {
      const out: string[] = [];
      for (const span of exporter.getFinishedSpans()) {
        out.push(span.name, inspect(span.attributes), span.status.message ?? '');
        for (const event of span.events) out.push(event.name, inspect(event.attributes ?? {}));
      }
      for (const [name, { points }] of await telemetry.metrics()) {
        out.push(name, ...points.map((p) => inspect(p.attributes)));
      }
      return out;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      for (const provider of meterProviders) await provider.shutdown();
      contextManager.disable();
      trace.disable();
      metrics.disable();
      context.disable();
    },
  };
  return telemetry;
}

/** The data point of `name` whose attributes include `attributes`. */
export async function point(
  telemetry: TestTelemetry,
  name: string,
  attributes: Record<string, unknown>,
): Promise<DataPoint | undefined> {
  const metric = (await telemetry.metrics()).get(name);
  return metric?.points.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
}
