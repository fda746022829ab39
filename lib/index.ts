export * from './api/index.js';
export * from './errors.js';
export * from './service/index.js';
export * from './signin/index.js';
