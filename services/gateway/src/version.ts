import pkg from '../package.json' with { type: 'json' };

/** The gateway's version, as reported by GET /health and the OpenAPI document. */
export const GATEWAY_VERSION: string = pkg.version;
