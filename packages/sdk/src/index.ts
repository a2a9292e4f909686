export { Berth } from './berth.js';
export { Container } from './container.js';
export { EXEC_ANSWER_MARGIN_MS, type ContainerCommand, type ExecOptions } from './exec.js';
export { LOGS_RECONNECT, type LogLine, type LogsOptions } from './logs.js';
export { SETUP_DEFAULT_TIMEOUT_MS, type SetupOptions } from './setup.js';
export { Terminal, type TerminalExit, type TerminalOptions } from './terminal.js';
export { Containers, type CreateContainerOptions } from './containers.js';
export { Volumes } from './volumes.js';
export { TEMPLATE_BUILD_DEFAULT_TIMEOUT_MS, Templates, type TemplateBuildOptions, type TemplateBuildResult, type TemplateSource } from './templates.js';
export { ContainerFiles, type FileData, type ReadOptions, type WriteOptions } from './files.js';
export type { WatchEvent, WatchOptions } from './watch.js';
export { Previews } from './previews.js';
export { BerthAbortError, BerthApiError, BerthNetworkError, BerthResponseError, BerthTimeoutError, isApiError, type BerthClientError } from './errors.js';
export { DEFAULT_TIMEOUT_MS, type BerthOptions, type CallOptions } from './options.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export {
  ERROR_CODES,
  SETUP_PHASES,
  type ContainerView,
  type ErrorCode,
  type ExecResult,
  type Health,
  type LogEvent,
  type PoolView,
  type SetupBody,
  type SetupPhase,
  type SetupStatus,
  type Usage,
  type LlmUsage,
  type LlmLimits,
  type LlmKeyStateReply,
  type VolumeList,
  type VolumeView,
  type FileEntry,
  type FileList,
  type CreatedPreview,
  type TemplateInfo,
  type TemplateList,
  type TemplateOnHost,
  type TemplateDeleted,
} from '@berth/contracts';
