export { Berth } from './berth.js';
export { Container, EXEC_ANSWER_MARGIN_MS, type ContainerCommand, type ExecOptions } from './container.js';
export { Containers, type CreateContainerOptions } from './containers.js';
export {
  BerthAbortError, BerthApiError, BerthNetworkError, BerthResponseError, BerthTimeoutError, type BerthClientError,
} from './errors.js';
export { DEFAULT_TIMEOUT_MS, type BerthOptions, type CallOptions } from './options.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { ERROR_CODES, type ContainerView, type ErrorCode, type ExecResult, type Health, type PoolView } from '@berth/contracts';
