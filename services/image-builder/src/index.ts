export { startImageBuilder } from './service.js';
export { imageBuilderConfigSchema, loadImageBuilderConfig, type ImageBuilderConfig } from './config.js';
export { ensureBuildsStream } from './builds-stream.js';
