export * from './api/index.js';
export * from './errors.js';
export * from './signin/index.js';
