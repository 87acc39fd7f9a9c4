import { trace, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  RUN_SPAN_ATTRIBUTES,
  runSpanAttributes,
  runTraceContext,
  type ChaosRunResource,
  type RunStatus,
} from '@chaoscraft/backstage-plugin-chaos-node';

/**
 * Starts exporting this process's traces over OTLP/HTTP when an endpoint is configured
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), or to the exporter given;
 * otherwise nothing is started and the OpenTelemetry API stays a no-op. Returns what flushes and
 * stops it.
 */
export function startTracing(
  serviceName: string,
  options: { env?: NodeJS.ProcessEnv; exporter?: SpanExporter } = {},
): { shutdown(): Promise<void> } | undefined {
  const env = options.env ?? process.env;
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if ((!endpoint && !options.exporter) || env.OTEL_SDK_DISABLED === 'true')
    return undefined;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || serviceName,
    }),
    spanProcessors: [
      new BatchSpanProcessor(options.exporter ?? new OTLPTraceExporter()),
    ],
  });
  // Also the W3C trace context propagator, which reads the ChaosRun's traceparent annotation.
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

export const agentTracer = (): ReturnType<typeof trace.getTracer> =>
  trace.getTracer('chaoscraft-agent');

const ms = (time: string | undefined, fallback: number): number => {
  const parsed = time ? Date.parse(time) : NaN;
  return Number.isFinite(parsed) ? parsed : fallback;
};

/**
 * The agent's part of a run's trace, written once the run has ended, from its status (which holds
 * every phase's time, every target's injection and recovery, and every probe sample): a
 * `chaos.run` span under the span that started the run (the ChaosRun's traceparent), with a
 * child per phase, per target and per probe sample. Built from status, it is the same whichever
 * replica ends the run and whatever restarts happened on the way.
 */
export function recordRunTrace(run: ChaosRunResource, status: RunStatus): void {
  const tracer = agentTracer();
  const parent = runTraceContext(run);
  const identity = runSpanAttributes(run);
  const end = ms(status.finishedAt, Date.now());
  const transitions = status.phaseTransitions ?? [];
  const start = ms(transitions[0]?.time ?? status.startedAt, end);
  const attributes: Attributes = {
    ...identity,
    'chaoscraft.phase': status.phase ?? '',
    'chaoscraft.verdict': status.verdict ?? '',
    'chaoscraft.reason': status.reason ?? '',
  };
  if (status.blastRadius) {
    attributes['chaoscraft.blast_radius.selected'] =
      status.blastRadius.selected;
    attributes['chaoscraft.blast_radius.eligible'] =
      status.blastRadius.eligible;
    attributes['chaoscraft.blast_radius.percent'] = status.blastRadius.percent;
  }
  if (status.abortLatencyMs !== undefined)
    attributes['chaoscraft.abort_latency_ms'] = status.abortLatencyMs;
  const root = tracer.startSpan(
    'chaos.run',
    { startTime: start, attributes },
    parent,
  );
  const inRun = trace.setSpan(parent, root);

  transitions.forEach((transition, i) => {
    const from = ms(transition.time, start);
    const to = Math.max(from, ms(transitions[i + 1]?.time, end));
    tracer
      .startSpan(
        `chaos.phase ${transition.phase}`,
        {
          startTime: from,
          attributes: {
            ...identity,
            'chaoscraft.phase': transition.phase,
            'chaoscraft.reason': transition.reason ?? '',
          },
        },
        inRun,
      )
      .end(to);
  });

  for (const record of status.targets ?? []) {
    const first = ms(record.events?.[0]?.time, start);
    const from = ms(record.injectedAt, first);
    const span = tracer.startSpan(
      `chaos.target ${record.fault}`,
      {
        startTime: from,
        attributes: {
          ...identity,
          [RUN_SPAN_ATTRIBUTES.fault]: record.fault,
          [RUN_SPAN_ATTRIBUTES.pod]: record.pod,
          [RUN_SPAN_ATTRIBUTES.node]: record.node ?? '',
          'chaoscraft.target.phase': record.phase,
          'chaoscraft.target.reason': record.reason ?? '',
        },
      },
      inRun,
    );
    for (const event of record.events ?? []) {
      span.addEvent(
        event.reason,
        { message: event.message },
        ms(event.time, from),
      );
    }
    if (record.phase === 'Failed')
      span.setStatus({ code: SpanStatusCode.ERROR, message: record.message });
    span.end(Math.max(from, ms(record.recoveredAt, end)));
  }

  for (const probe of status.probes ?? []) {
    for (const sample of probe.samples) {
      const at = ms(sample.time, end);
      const span = tracer.startSpan(
        `chaos.probe ${probe.name}`,
        {
          startTime: at,
          attributes: {
            ...identity,
            'chaoscraft.probe': probe.name,
            'chaoscraft.probe.type': probe.type,
            'chaoscraft.probe.phase': sample.phase,
            'chaoscraft.probe.ok': sample.ok,
            ...(sample.value !== undefined
              ? { 'chaoscraft.probe.value': sample.value }
              : {}),
          },
        },
        inRun,
      );
      if (!sample.ok)
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: sample.error ?? 'outside the hypothesis',
        });
      span.end(at);
    }
  }

  if (status.verdict === 'Failed' || status.phase === 'Failed') {
    root.setStatus({
      code: SpanStatusCode.ERROR,
      message: status.message ?? status.reason,
    });
  }
  root.end(Math.max(start, end));
}
