export * from './start.js';
export * from './spans.js';
export * from './redis-spans.js';
