import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/**
 * The OpenTelemetry SDK registered for a test file (once per file: the API's globals cannot be registered twice):
 * a NodeTracerProvider with its AsyncLocalStorage context manager and the default propagator (W3C trace context
 * and baggage), every span exported at its end to memory. `reset()` between tests.
 */
export interface TestTracing {
  readonly exporter: InMemorySpanExporter;
  /** The ended spans named `name` (all when undefined), in the order they ended. */
  spans(name?: string): ReadableSpan[];
  reset(): void;
}

export function registerTestTracing(): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return {
    exporter,
    spans: (name) => exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name),
    reset: () => exporter.reset(),
  };
}
