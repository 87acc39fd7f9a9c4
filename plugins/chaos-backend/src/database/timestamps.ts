/**
 * PostgreSQL hands timestamps back as Date, SQLite as the number or string it stored;
 * the API always speaks ISO 8601.
 */
export function toIsoString(value: Date | string | number): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
