import { types } from 'pg';

/** An instant as the API speaks it: ISO 8601 in UTC with milliseconds, as Date#toISOString writes. */
const API_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * PostgreSQL hands timestamps back as Date (or, read with pgIsoTimestamps, as the API's string
 * already), SQLite as the number or string it stored; the API always speaks ISO 8601.
 */
export function toIsoString(value: Date | string | number): string {
  if (typeof value === 'string' && API_ISO.test(value)) return value;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** A timestamptz as a session in UTC writes it (DateStyle ISO): `2026-12-03 16:42:39.5+00`. */
const PG_UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;
const parsePgTimestamptz = types.getTypeParser(types.builtins.TIMESTAMPTZ);

/**
 * A timestamptz's text straight to the API's ISO string. Parsing every timestamp into a Date and
 * writing it out again was a tenth of the backend's CPU on a page of runs or a run of 100 targets;
 * in a UTC session (a session takes the server's `timezone`, UTC in most deployments) the text
 * needs only its separator and zone rewritten, and the fraction cut to milliseconds as a Date
 * would. Any other offset, era or form goes through pg's own parser.
 */
export function pgTimestamptzToIso(text: string): string {
  const utc = PG_UTC_TEXT.exec(text);
  if (!utc) return (parsePgTimestamptz(text) as Date).toISOString();
  return `${utc[1]}T${utc[2]}.${(utc[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
}

/**
 * pg's type parsers with timestamptz read as the API's ISO string: pass as a query's `types`
 * (Knex: `.options({ types: pgIsoTimestamps })`) where the rows go straight to the API.
 */
export const pgIsoTimestamps = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    return oid === types.builtins.TIMESTAMPTZ && format !== 'binary'
      ? pgTimestamptzToIso
      : types.getTypeParser(oid, format);
  },
};
