export * from './errors.js';
export * from './signin/index.js';
