import { BerthError, PAGE_MAX_LIMIT, PageQuerySchema, parseOrThrow } from '@berth/contracts';

/** The querystring of a list route in the OpenAPI document. */
export const PAGE_QUERYSTRING = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: PAGE_MAX_LIMIT, description: 'Items per page; without it, the whole list.' },
    cursor: { type: 'string', description: 'The `nextCursor` of the previous page.' },
  },
};

const badCursor = () =>
  new BerthError('VALIDATION_FAILED', 'cursor is not one this API gave', {
    details: [{ path: 'query.cursor', message: 'must be the nextCursor of an earlier page' }],
  });

/** The cursor names the last key of the page before, so items added or removed meanwhile never shift a page. */
function decodeCursor(cursor: string): string {
  let after: unknown;
  try {
    after = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }).after;
  } catch {
    throw badCursor();
  }
  if (typeof after !== 'string' || after.length === 0) throw badCursor();
  return after;
}

const encodeCursor = (after: string): string => Buffer.from(JSON.stringify({ after })).toString('base64url');

/**
 * One page of a list, ordered by `keyOf` (a unique, stable key such as an id or a name), from the
 * `?limit=&cursor=` of `query`; `nextCursor` when more follow.
 */
export function pageOf<T>(items: readonly T[], keyOf: (item: T) => string, query: unknown): { items: T[]; nextCursor?: string } {
  const { limit, cursor } = parseOrThrow(PageQuerySchema, query ?? {}, 'query');
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const rest = after === undefined ? sorted : sorted.filter((item) => keyOf(item) > after);
  if (limit === undefined || rest.length <= limit) return { items: rest };
  const page = rest.slice(0, limit);
  return { items: page, nextCursor: encodeCursor(keyOf(page[page.length - 1]!)) };
}
