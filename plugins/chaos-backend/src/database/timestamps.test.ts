import { TestDatabases } from '@backstage/backend-test-utils';
import { types } from 'pg';
import { pgIsoTimestamps, pgTimestamptzToIso, toIsoString } from './timestamps';

jest.setTimeout(60_000);

describe('toIsoString', () => {
  it('writes Dates, epoch milliseconds and other strings as the API ISO form', () => {
    const iso = '2031-03-04T05:06:07.250Z';
    expect(toIsoString(new Date(iso))).toBe(iso);
    expect(toIsoString(Date.parse(iso))).toBe(iso);
    expect(toIsoString('2031-03-04T06:06:07.25+01:00')).toBe(iso);
    expect(toIsoString(iso)).toBe(iso);
  });
});

describe('pgTimestamptzToIso', () => {
  it('rewrites a UTC session text and cuts the fraction to milliseconds', () => {
    expect(pgTimestamptzToIso('2031-03-04 05:06:07+00')).toBe(
      '2031-03-04T05:06:07.000Z',
    );
    expect(pgTimestamptzToIso('2031-03-04 05:06:07.25+00')).toBe(
      '2031-03-04T05:06:07.250Z',
    );
    expect(pgTimestamptzToIso('2031-03-04 05:06:07.123987+00')).toBe(
      '2031-03-04T05:06:07.123Z',
    );
  });

  it('leaves any other offset to pg, which applies it', () => {
    expect(pgTimestamptzToIso('2031-03-04 10:36:07.25+05:30')).toBe(
      '2031-03-04T05:06:07.250Z',
    );
  });
});

// What PostgreSQL really writes, in sessions of several zones (DateStyle ISO, its default): the
// fast path and pg's own parser must agree on every one.
const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });

describe.each(databases.eachSupportedId())('pgIsoTimestamps on %s', id => {
  /** What each instant reads as: the API's form, its fraction cut to milliseconds as a Date's. */
  const instants: Array<[string, string]> = [
    ['2031-03-04 05:06:07+00', '2031-03-04T05:06:07.000Z'],
    ['2031-03-04 05:06:07.2+00', '2031-03-04T05:06:07.200Z'],
    ['2031-03-04 05:06:07.25+00', '2031-03-04T05:06:07.250Z'],
    ['2031-03-04 05:06:07.123+00', '2031-03-04T05:06:07.123Z'],
    ['2031-03-04 05:06:07.123456+00', '2031-03-04T05:06:07.123Z'],
    ['2031-03-04 05:06:07.999999+00', '2031-03-04T05:06:07.999Z'],
    ['1999-12-31 23:59:59.5+00', '1999-12-31T23:59:59.500Z'],
    // Before time zones were standard: Amsterdam's local mean time is +00:19:32.
    ['1850-06-01 12:00:00.75+00', '1850-06-01T12:00:00.750Z'],
  ];

  it.each(['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Europe/Amsterdam'])(
    'reads timestamptz as the API writes it, and as pg would, in the %s zone',
    async zone => {
      const knex = await databases.init(id);
      await knex.transaction(async tx => {
        await tx.raw(`set local time zone '${zone}'`);
        for (const [instant, iso] of instants) {
          const [{ text }] = await tx.select(
            tx.raw('?::timestamptz::text as text', [instant]),
          );
          const [{ t }] = await tx
            .select(tx.raw('?::timestamptz as t', [instant]))
            .options({ types: pgIsoTimestamps });
          const byPg = (
            types.getTypeParser(types.builtins.TIMESTAMPTZ)(text) as Date
          ).toISOString();
          expect({ text, t, byPg }).toEqual({ text, t: iso, byPg: iso });
        }
      });
    },
  );

  it('leaves every other type to pg', async () => {
    const knex = await databases.init(id);
    const [row] = await knex
      .select(
        knex.raw(
          `42::int as n, true as b, '{"a":1}'::jsonb as j, '2031-03-04 05:06:07.5+00'::timestamptz as t`,
        ),
      )
      .options({ types: pgIsoTimestamps });
    expect(row).toEqual({
      n: 42,
      b: true,
      j: { a: 1 },
      t: '2031-03-04T05:06:07.500Z',
    });
  });
});
