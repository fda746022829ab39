/**
 * The OpenTelemetry 2.x SDK as an application sets it up (a context manager, a tracer provider with a
 * batch processor, a meter provider with a periodic reader), exporting to nowhere: what the
 * instrumentation costs, without the cost of an exporter.
 */
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

const SUCCESS = 0; // ExportResultCode.SUCCESS, from @opentelemetry/core

const spanExporter: SpanExporter = {
  export: (_spans, done) => done({ code: SUCCESS }),
  shutdown: async () => undefined,
};

const metricExporter: PushMetricExporter = {
  export: (_metrics, done) => done({ code: SUCCESS }),
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

/** `only`: register just the tracer provider or just the meter provider, to see what each costs. */
export async function setUpNoopSdk(only?: 'traces' | 'metrics'): Promise<void> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (only !== 'metrics') {
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spanExporter)] }),
    );
  }
  if (only === 'traces') return;
  metrics.setGlobalMeterProvider(
    new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 1000 })],
    }),
  );
}
