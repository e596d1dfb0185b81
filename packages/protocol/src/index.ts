export * from './version.js';
export * from './errors.js';
export * from './facts.js';
export * from './messages.js';
export * from './api.js';
