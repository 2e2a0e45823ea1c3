export * from './database.js';
export * from './graphql.js';
export * from './operations.js';
export * from './process.js';
export * from './own-postgres.js';
export * from './restart.js';
export * from './subgraph.js';
export * from './stack.js';
