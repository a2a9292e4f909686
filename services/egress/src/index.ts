export { startEgress } from './service.js';
export { egressConfigSchema, loadEgressConfig, type EgressConfig } from './config.js';
export { Registrations } from './callbacks/registrations.js';
export { SecretBox } from './callbacks/secret-box.js';
export { LlmStore } from './llm/store.js';
