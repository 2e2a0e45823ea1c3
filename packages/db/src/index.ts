export * from './database.js';
export * from './partitions.js';
export * from './columns.js';
export * from './arrays.js';
export * from './idempotency.js';
export * from './roles.js';
export * from './transact.js';
export * from './pool-usage.js';
