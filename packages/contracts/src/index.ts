export * from './contract.js';
export * from './streams.js';
export * from './publish.js';
export * from './handle.js';
export * from './response-cache.js';
