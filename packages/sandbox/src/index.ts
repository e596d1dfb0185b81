export * from './flake.js';
export * from './nix.js';
export * from './process.js';
export * from './fleet.js';
export * from './http.js';
export * from './git-repo.js';
export * from './blob.js';
export * from './initial-system.js';
