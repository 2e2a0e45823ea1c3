import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@stockgraph/logger';
import { createTestDatabase, ROOT, type TestDatabase } from '@stockgraph/testkit';
import { createUsageRecorder } from '@stockgraph/usage';
import { recordOperation, usageTestEnv } from '@stockgraph/usage/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiSchemaOf } from '@stockgraph/graphql-kit/api-schema';
import { stockgraph } from './cli-support.js';

let database: TestDatabase;
let dir: string;
let supergraph: string;

/**
 * The committed supergraph with Customer.notes deprecated (none is today), and traffic recorded by the
 * gateway's recorder against it: products listed five times by web 2.3.1, notes read by ios 5.0.
 */
beforeAll(async () => {
  database = await createTestDatabase('cli_usage');
  dir = mkdtempSync(join(tmpdir(), 'sg-cli-usage-'));
  const committed = readFileSync(join(ROOT, 'schema/supergraph.graphql'), 'utf8');
  const deprecating = /(\n {2}notes: String @join__field\(graph: CUSTOMERS\))/;
  expect(committed).toMatch(deprecating);
  supergraph = join(dir, 'supergraph.graphql');
  writeFileSync(supergraph, committed.replace(deprecating, '$1 @deprecated(reason: "Notes move to the CRM")'));

  const recorder = createUsageRecorder<{ client: { name: string; version: string } }>({
    env: usageTestEnv(database.url),
    logger: createLogger('usage', 'silent'),
    registry: new Registry(),
    clientOf: ({ contextValue }) => contextValue.client,
  });
  const schema = apiSchemaOf(readFileSync(supergraph, 'utf8'));
  const web = { client: { name: 'web', version: '2.3.1' } };
  const ios = { client: { name: 'ios', version: '5.0' } };
  for (let i = 0; i < 5; i++)
    await recordOperation(recorder, {
      schema,
      contextValue: web,
      query: 'query ($first: Int) { products(first: $first) { totalCount } }',
      variables: { first: 3 },
    });
  await recordOperation(recorder, { schema, contextValue: ios, query: '{ customer(id: "c1") { name notes } }' });
  await recorder.stop();
});

afterAll(async () => {
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('stockgraph usage report', () => {
  it('prints the busiest coordinates and the clients still on deprecated ones', async () => {
    const env = { USAGE_DATABASE_URL: database.url };
    const [human, json] = await Promise.all([
      stockgraph(['usage', 'report', '--supergraph', supergraph, '--top', '3'], env),
      stockgraph(['--json', 'usage', 'report', '--supergraph', supergraph, '--days', '7'], env),
    ]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/Busiest coordinates \(top 3\):\n.*\n(.*\n)?\s+5\s+1\s+Query\.products\n/);
    expect(human.stdout).toMatch(
      /Clients still using deprecated coordinates:\n {2}ios 5\.0\n {4}Customer\.notes: 1 operation\(s\), last seen \d{4}-\S+ \(deprecated: Notes move to the CRM\)/,
    );
    expect(human.stdout).not.toMatch(/^\s+web 2\.3\.1$/m);

    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ days: 7, recordedSince: expect.any(String) });
    // Five operations each, ties in coordinate order; the deprecated field's one operation after them.
    expect(report.busiest.slice(0, 3)).toEqual(
      ['ProductConnection.totalCount', 'Query.products', 'Query.products(first:)'].map((coordinate) => ({
        coordinate,
        count: 5,
        samples: 5,
        clients: 1,
        lastSeen: expect.any(String),
      })),
    );
    expect(report.deprecated).toEqual([
      {
        client: 'ios',
        version: '5.0',
        coordinates: [
          {
            coordinate: 'Customer.notes',
            reason: 'Notes move to the CRM',
            count: 1,
            samples: 1,
            lastSeen: expect.any(String),
          },
        ],
      },
    ]);
  });

  it('needs its database, and says so when it is missing or unreachable', async () => {
    const [unset, unreachable, badDays] = await Promise.all([
      stockgraph(['usage', 'report'], { USAGE_DATABASE_URL: undefined }),
      stockgraph(['usage', 'report'], { USAGE_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/usage' }),
      stockgraph(['usage', 'report', '--days', 'soon'], { USAGE_DATABASE_URL: database.url }),
    ]);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/usage report needs USAGE_DATABASE_URL/);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the usage database postgres:\/\/postgres@127\.0\.0\.1:1\/usage/);
    expect(badDays.code).toBe(2);
  });
});
