export * from './bus.js';
export * from './redis-bus.js';
export * from './memory-bus.js';
export * from './tables.js';
export * from './outbox.js';
export * from './consumer.js';
export * from './housekeeping.js';
export * from './unprocessable.js';
