// OpenTelemetry for the Backstage backend, loaded before anything else with `--require` (see the
// start script and docs/observability.md). Traces go over OTLP/HTTP when an endpoint is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, e.g. Jaeger's :4318);
// without one nothing is started and the OpenTelemetry API stays a no-op.
// The HTTP instrumentation makes each request a server span, so a chaos run's trace starts at
// the POST that started it (plugins/chaos-backend: the chaos.run.start span).
const { isMainThread } = require('node:worker_threads');

const endpoint =
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

if (isMainThread && endpoint && process.env.OTEL_SDK_DISABLED !== 'true') {
  const { NodeSDK } = require('@opentelemetry/sdk-node');
  const {
    OTLPTraceExporter,
  } = require('@opentelemetry/exporter-trace-otlp-http');
  const {
    HttpInstrumentation,
  } = require('@opentelemetry/instrumentation-http');

  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME || 'chaoscraft-backend',
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [new HttpInstrumentation()],
  });
  sdk.start();
  process.once('SIGTERM', () => {
    sdk.shutdown().catch(() => undefined);
  });
}
