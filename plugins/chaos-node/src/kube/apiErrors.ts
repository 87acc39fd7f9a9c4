/** HTTP status of a failed client-node call (its ApiException), or undefined for other errors. */
export function apiErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's Status body of a failed call, parsed when it came as a string. */
export function apiErrorBody(error: unknown):
  | {
      message?: string;
      reason?: string;
      details?: { causes?: Array<{ reason?: string; message?: string }> };
    }
  | undefined {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body);
    } catch {
      return { message: body };
    }
  }
  return body && typeof body === 'object' ? (body as never) : undefined;
}

/** A short, log- and status-friendly description of an API error. */
export function describeApiError(error: unknown): string {
  const code = apiErrorCode(error);
  const message =
    apiErrorBody(error)?.message ??
    (error instanceof Error ? error.message : String(error));
  return code ? `HTTP ${code}: ${message}` : message;
}

export function isConflict(error: unknown): boolean {
  return apiErrorCode(error) === 409;
}

export function isNotFound(error: unknown): boolean {
  return apiErrorCode(error) === 404;
}
