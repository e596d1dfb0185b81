export * from './process-runner.js';
export * from './line-splitter.js';
export * from './atomic-file.js';
export * from './serial-queue.js';
export * from './clock.js';
export * from './logger.js';
