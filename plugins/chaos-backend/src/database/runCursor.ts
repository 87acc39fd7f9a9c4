import { InputError } from '@backstage/errors';

/**
 * Where a page of runs ends in the list's order (newest first, then by id): the last run's
 * creation time and id. The next page starts right after it, found through the
 * (entity_ref, created_at) index, so a page 5,000 runs deep costs what the first does; an offset
 * walks every row it skips.
 */
export type RunCursor = { createdAt: Date; id: string };

const SHAPE =
  /^(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Opaque to clients: base64url of `<epoch ms>.<run id>`. */
export function encodeRunCursor(cursor: RunCursor): string {
  return Buffer.from(`${cursor.createdAt.valueOf()}.${cursor.id}`).toString(
    'base64url',
  );
}

/** The cursor a nextCursor carried; anything else is a 400 naming `after`. */
export function decodeRunCursor(value: string): RunCursor {
  const match = SHAPE.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!match)
    throw new InputError(
      "after: not a cursor this API gave (pass a page's nextCursor as it came)",
    );
  return { createdAt: new Date(Number(match[1])), id: match[2] };
}
