export * from './version.js';
export * from './errors.js';
export * from './facts.js';
export * from './messages.js';
export * from './api.js';
export * from './pipeline.js';
export * from './cache.js';
export * from './repository.js';
