export * from './api/index.js';
export * from './errors.js';
export type { LogDetails, Logger } from './protocol/logger.js';
export * from './service/index.js';
export * from './signin/index.js';
