import { z } from 'zod';
import { StreamOpenShape } from './streams.js';
import { TEMPLATE_CONTEXT_HARD_MAX_BYTES, TEMPLATE_LIMITS, TemplateNameSchema, TemplateViewSchema } from './templates.js';

/*
 * w5-templates-api: the gateway asks each host's image-builder (host-addressed subjects). A build is
 * a stream (contracts/streams.ts): its output comes as `out` messages, success as `end` with exit
 * code 0, failure as `error`. A tar context follows the open as upload bytes (as a file upload's),
 * then `eof`.
 */

const OwnerSchema = z.string().min(1).max(100);

export const TemplateBuildRequestSchema = z.object({
  owner: OwnerSchema,
  name: TemplateNameSchema,
  /** The Dockerfile, checked before the stream opens; with a tar context, the context's own Dockerfile must be exactly this. */
  dockerfile: z.string().min(1).max(TEMPLATE_LIMITS.dockerfileBytes),
  /** Size of the tar context that follows as upload bytes; absent for a Dockerfile alone. */
  contextBytes: z.number().int().min(1).max(TEMPLATE_CONTEXT_HARD_MAX_BYTES).optional(),
  ...StreamOpenShape,
});
export type TemplateBuildRequest = z.infer<typeof TemplateBuildRequestSchema>;

export const TemplateRefRequestSchema = z.object({ owner: OwnerSchema, name: TemplateNameSchema });
export const TemplateListRequestSchema = z.object({ owner: OwnerSchema });

export const TemplateHostListSchema = z.object({ templates: z.array(TemplateViewSchema), limit: z.number().int() });
export const TemplateRemovedSchema = z.object({ name: TemplateNameSchema, removed: z.literal(true) });
