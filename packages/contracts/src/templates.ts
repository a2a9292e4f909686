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
