export * from './start.js';
export * from './spans.js';
