import { readFileSync } from 'node:fs';

/** The Node major berth pins (.node-version; scripts/lib/node.sh reads the same file). */
export const NODE_MAJOR = readFileSync(new URL('../../../../.node-version', import.meta.url), 'utf8').trim();

/** The local Node image docker/base-images.sh builds with that major: NODE_IMAGE, else berth/node:<major>. */
export const nodeImage = (): string => process.env.NODE_IMAGE || `berth/node:${NODE_MAJOR}`;
