import { z } from 'zod';

/** Most items one page of a list route holds. */
export const PAGE_MAX_LIMIT = 1000;

/**
 * `?limit=&cursor=` of every list route. Without `limit` the whole list comes in one page (what
 * callers written before paging expect). `cursor` is the `nextCursor` of the previous page, opaque.
 * Other parameters are ignored, as they were before lists paged (callers send filters berth lacks).
 */
export const PageQuerySchema = z.object({
  limit: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(1).max(PAGE_MAX_LIMIT)).optional(),
  cursor: z.string().max(512).optional(),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

/** On a list reply: present when more items follow; pass it as `?cursor=` for the next page. */
export const NextCursorSchema = z
  .string()
  .meta({ description: 'Present when more items follow: send it back as `?cursor=` (with the same `limit`) for the next page.' });
