export * from './service.js';
export * from './metrics.js';
export * from './errors.js';
export * from './observability.plugin.js';
export * from './subgraph.js';
export * from './main.js';
export * from './metric-labels.js';
