import { z } from 'zod';

/**
 * A template's name, chosen by its owner (hostile input): lowercase letters, digits, `-` and `_`,
 * so it is one Docker tag component as it is. Names are per owner: two owners' `node` never meet.
 */
export const TemplateNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, - and _, starting with a letter or digit, at most 63')
  .meta({ id: 'TemplateName', example: 'node-playwright' });

/** Limits of a template build's input (the gateway reads bodies up to these). */
export const TEMPLATE_LIMITS = {
  /** A Dockerfile given as text. */
  dockerfileBytes: 64 * 1024,
} as const;

export const TemplateBuildBodySchema = z
  .strictObject({
    name: TemplateNameSchema,
    /** The Dockerfile's text (its context is empty); a tar context is sent as the request body instead. */
    dockerfile: z.string().min(1).max(TEMPLATE_LIMITS.dockerfileBytes),
  })
  .meta({ id: 'TemplateBuildBody' });
export type TemplateBuildBody = z.infer<typeof TemplateBuildBodySchema>;

export const TemplateViewSchema = z
  .object({
    name: TemplateNameSchema,
    image: z.string(),
    imageId: z.string(),
    createdAt: z.string(),
    /** Whether its image tree exists: workspaces of it start in constant time (docs/templates.md). */
    tree: z.boolean(),
  })
  .meta({ id: 'Template' });
export type TemplateView = z.infer<typeof TemplateViewSchema>;

// --- w5-templates-api: the HTTP answers (a template is built on every host; usable where built) ---

/** Largest tar context any host accepts; the gateway's TEMPLATE_CONTEXT_MAX_BYTES is at most this. */
export const TEMPLATE_CONTEXT_HARD_MAX_BYTES = 1024 * 1024 * 1024;

/** The template as one host has it. */
export const TemplateOnHostSchema = TemplateViewSchema.omit({ name: true }).extend({ hostId: z.string() }).meta({ id: 'TemplateOnHost' });
export type TemplateOnHost = z.infer<typeof TemplateOnHostSchema>;

/** A template by name, with every host that has it built (a create can use it on those hosts). */
export const TemplateInfoSchema = z.object({ name: TemplateNameSchema, hosts: z.array(TemplateOnHostSchema) }).meta({ id: 'TemplateInfo' });
export type TemplateInfo = z.infer<typeof TemplateInfoSchema>;

export const TemplateListSchema = z
  .object({
    templates: z.array(TemplateInfoSchema),
    count: z.number().int(),
    /** Templates an owner may keep per host (MAX_TEMPLATES_PER_OWNER). */
    limit: z.number().int(),
  })
  .meta({ id: 'TemplateList' });
export type TemplateList = z.infer<typeof TemplateListSchema>;

export const TemplateDeletedSchema = z
  .object({ name: TemplateNameSchema, removed: z.literal(true), hosts: z.array(z.string()) })
  .meta({ id: 'TemplateDeleted' });
export type TemplateDeleted = z.infer<typeof TemplateDeletedSchema>;

const HostErrorSchema = z.object({ code: z.string(), message: z.string(), retryable: z.boolean() });

/**
 * `POST /api/templates` answers with these as the builds run (NDJSON, or SSE by `Accept`): each
 * host's output as it happens, each host's outcome, then `done` last.
 */
export const TemplateBuildEventSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('output'), hostId: z.string(), data: z.string() }),
    z.object({ type: z.literal('built'), hostId: z.string(), template: TemplateOnHostSchema }),
    z.object({ type: z.literal('failed'), hostId: z.string(), error: HostErrorSchema }),
    /** The last event: where the template can be used now, and where its build failed. */
    z.object({ type: z.literal('done'), name: TemplateNameSchema, built: z.array(z.string()), failed: z.array(z.string()) }),
  ])
  .meta({ id: 'TemplateBuildEvent' });
export type TemplateBuildEvent = z.infer<typeof TemplateBuildEventSchema>;
