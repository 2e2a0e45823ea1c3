import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  databaseUrlVariable,
  defaultPort,
  sdlPath,
  serviceDatabaseUrlVariable,
  SUBGRAPH_NAMES,
  SUBGRAPHS,
  subgraphEntry,
  tokenIssuer,
  urlVariable,
} from './index.js';

const ROOT = new URL('../../../', import.meta.url);

describe('the service registry', () => {
  it('names each subgraph once, with its own port, schema and variable prefix', () => {
    for (const field of ['name', 'package', 'dir', 'portOffset', 'pgSchema', 'envPrefix'] as const) {
      const values = SUBGRAPHS.map((entry) => entry[field]);
      expect(new Set(values).size, field).toBe(values.length);
    }
    expect(SUBGRAPHS.every((entry) => entry.portOffset > 0)).toBe(true);
    // The launcher and the tools import `subgraphs/<name>/src/app.ts` (ops/src/services.ts).
    expect(SUBGRAPHS.every((entry) => entry.dir === `subgraphs/${entry.name}`)).toBe(true);
  });

  it('matches each package: its name, its folder and the default port its env module declares', () => {
    for (const entry of SUBGRAPHS) {
      const pkg = JSON.parse(readFileSync(new URL(`${entry.dir}/package.json`, ROOT), 'utf8')) as { name: string };
      expect(pkg.name).toBe(entry.package);
      const env = readFileSync(new URL(`${entry.dir}/src/env.ts`, ROOT), 'utf8');
      expect(env).toContain(`export const DEFAULT_PORT = ${defaultPort(entry)};`);
      expect(() => readFileSync(new URL(sdlPath(entry), ROOT))).not.toThrow();
    }
  });

  it('derives the variables the gateway and the tools read', () => {
    const users = subgraphEntry('users');
    expect([urlVariable(users), databaseUrlVariable(users), serviceDatabaseUrlVariable(users)]).toEqual([
      'USERS_URL',
      'USERS_DATABASE_URL',
      'USERS_SERVICE_DATABASE_URL',
    ]);
    expect(tokenIssuer().name).toBe('users');
    expect(SUBGRAPH_NAMES).toEqual(['users', 'inventory', 'orders', 'customers']);
    expect(() => subgraphEntry('billing')).toThrow(/no subgraph named "billing"/);
  });
});
