/**
 * Operations code, one API: the CLI, the migration job (infra/migrate), the launcher, the benches and
 * the entry points in scripts/ call it. It sits above the services (it loads each subgraph of the
 * registry through its `service` export) and below everything that runs it.
 */
export * from './migrate.js';
export * from './monitoring.js';
export * from './partition-lifecycle.js';
export * from './response-cache.js';
export * from './roles.js';
export * from './services.js';
export * from './targets.js';
export * from './template.js';
