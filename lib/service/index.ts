// The public API of service calls (API.md §3).
export type { ServiceAgentOptions } from '../config/service.js';
export type { ServiceAgentDpopOptions } from '../config/service-dpop.js';
export type { DpopAlgorithm, DpopKeyInput } from '../protocol/dpop/key-pair.js';
export type {
  AxiosLikeInstance,
  AxiosLikeInterceptorOptions,
  AxiosLikeInterceptors,
  AxiosLikeRequestConfig,
  AxiosLikeResponse,
} from './axios.js';
export type { ServiceAgentEvent } from './events.js';
export type { ServiceFetch } from './fetch.js';
export { memoryTokenCache } from './memory-cache.js';
export { type RedisClientLike, type RedisTokenCacheOptions, redisTokenCache } from './redis-cache.js';
export { type OnBehalfOfAgent, type ServiceAgent, type ServiceToken, serviceAgent } from './service-agent.js';
export type { CachedToken, TokenCache } from './token-cache.js';
