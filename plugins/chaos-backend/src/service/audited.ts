import type { AuditorService } from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/types';
import type { Request } from 'express';

/**
 * Runs `action` inside an audit event: success when it returns, failure (with its error) when it
 * throws, which is rethrown. The REST API passes the request; the Actions Registry has none and
 * says so in `meta.via`.
 */
export async function audited<T>(
  auditor: AuditorService,
  event: { eventId: string; meta: JsonObject; request?: Request },
  action: () => Promise<T>,
): Promise<T> {
  const audit = await auditor.createEvent({
    eventId: event.eventId,
    request: event.request,
    severityLevel: 'medium',
    meta: event.meta,
  });
  try {
    const result = await action();
    await audit.success();
    return result;
  } catch (error) {
    await audit.fail({ error: error as Error });
    throw error;
  }
}
