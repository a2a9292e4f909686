import { createHash } from 'node:crypto';

/** The owner's part of a template's image name: a digest, so no owner string reaches a Docker name. */
export const templateOwnerKey = (owner: string) => createHash('sha256').update(`berth-template-owner\0${owner}`).digest('hex').slice(0, 16);

/** The image of an owner's template (`name` passed TemplateNameSchema): image-builder tags it, pool-manager runs it. */
export const templateImageTag = (owner: string, name: string) => `berth/template-${templateOwnerKey(owner)}:${name}`;
