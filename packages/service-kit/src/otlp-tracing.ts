import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

/**
 * The OpenTelemetry SDK exporting spans over OTLP/HTTP (JSON) to OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; headers from OTEL_EXPORTER_OTLP_HEADERS, as the exporter reads
 * them). Loaded only when an endpoint is set. Returns a stopper that flushes what is buffered.
 */
export function startOtlpTracing(service: string, env: Record<string, string | undefined>): () => Promise<void> {
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  const provider = new TracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (envDetector, which wins) over the service's own name.
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || service }).merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), ...(Number.isFinite(delay) && delay > 0 && { scheduledDelayMillis: delay }) }),
    ],
  });
  // Replaces the id-only tracer; spans are started through the global API, so all of them go here.
  trace.disable();
  trace.setGlobalTracerProvider(provider);
  return () => provider.shutdown();
}
