export * from './database.js';
export * from './graphql.js';
