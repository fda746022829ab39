export * from './errors.js';
export * from './service/index.js';
