import type { z } from 'zod';

/** A validation failure flattened to the field it concerns, e.g. `target.selection.count`. */
export type FieldIssue = { field: string; message: string };

/** Flattens zod issues to `field: message` pairs, the form the API and the UI show. */
export function formatZodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map(issue => ({
    field: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}
