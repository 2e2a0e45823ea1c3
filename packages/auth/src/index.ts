export * from './roles.js';
export * from './rules.js';
export * from './tokens.js';
export * from './verified-tokens.js';
export * from './shield.js';
export * from './revocation.js';
