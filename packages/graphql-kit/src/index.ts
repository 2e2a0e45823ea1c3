export * from './errors.js';
export * from './scalars.js';
export * from './pagination.js';
export * from './ids.js';
export * from './loaders.js';
export * from './unavailable.js';
