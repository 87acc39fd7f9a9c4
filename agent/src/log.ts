import pino, { Logger } from 'pino';
import { CHAOS_RUN_ID_LABEL } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  runTraceId,
  type ChaosRunResource,
} from '@chaoscraft/backstage-plugin-chaos-node';

export type { Logger } from 'pino';

/** The process-wide logger: JSON lines on stdout, as a cluster log pipeline expects them. */
export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
): Logger {
  return pino({ level, base: { component: 'chaoscraft-agent' } });
}

/**
 * A child logger for one run. Every line about a run carries its id, so `grep runId=...` over
 * the logs of both replicas tells the run's whole story. The Backstage run id (label) wins over
 * the object's uid because that is the id people see in Backstage; the trace id (from the run's
 * traceparent annotation) ties the lines to the run's trace.
 */
export function runLogger(parent: Logger, run: ChaosRunResource): Logger {
  const meta = run.metadata ?? {};
  const traceId = runTraceId(run);
  return parent.child({
    runId: meta.labels?.[CHAOS_RUN_ID_LABEL] ?? meta.uid,
    run: `${meta.namespace}/${meta.name}`,
    ...(traceId ? { traceId } : {}),
  });
}
