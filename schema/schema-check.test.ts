import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLogger } from '@stockgraph/logger';
import { createTestDatabase, ROOT, run, type TestDatabase } from '@stockgraph/testkit';
import { createUsageRecorder } from '@stockgraph/usage';
import { recordOperation, usageTestEnv } from '@stockgraph/usage/testing';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACKNOWLEDGEMENTS_FILE } from './acknowledgements.js';
import { apiSchemaOf } from '@stockgraph/graphql-kit/api-schema';
import { checkSchema, OPERATIONS_DIR, SUPERGRAPH_FILE } from './schema-check.js';
import { subgraphs } from './subgraphs.js';

/**
 * Each test edits a throwaway git repository holding this repository's subgraph SDLs, supergraph
 * and client operations, and runs the check against its HEAD, as a subgraph team would before
 * pushing. The SDLs and supergraph come from HEAD so work in progress elsewhere cannot move them.
 */
let repo: string;
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
const sdlPath = (name: string) => subgraphs.find((s) => s.name === name)!.sdl;
const readSdl = (name: string) => readFileSync(join(repo, sdlPath(name)), 'utf8');
const writeSdl = (name: string, sdl: string) => writeFileSync(join(repo, sdlPath(name)), sdl);

/** Drops a field (and the description line above it) from an object type in an SDL. */
function removeField(sdl: string, type: string, field: string): string {
  const pattern = new RegExp(`(type ${type}\\b[^{]*\\{[^}]*?)\\n\\s*"[^\\n]*"\\n\\s*${field}\\b[^\\n]*`);
  expect(sdl, `${type}.${field} in the SDL`).toMatch(pattern);
  return sdl.replace(pattern, '$1');
}

/** Replaces the named type of a field of an object type, keeping arguments and directives. */
function retypeField(sdl: string, type: string, field: string, newType: string): string {
  const pattern = new RegExp(`(type ${type}\\b[^{]*\\{[^}]*?\\n\\s*${field}\\b(?:\\([^)]*\\))?:\\s*)[A-Za-z]+`);
  expect(sdl, `${type}.${field} in the SDL`).toMatch(pattern);
  return sdl.replace(pattern, `$1${newType}`);
}

function addField(sdl: string, type: string, field: string): string {
  const pattern = new RegExp(`(type ${type}\\b[^{]*\\{)`);
  expect(sdl).toMatch(pattern);
  return sdl.replace(pattern, `$1\n  "Added by the test."\n  ${field}`);
}

function acknowledge(entries: object[]) {
  writeFileSync(join(repo, ACKNOWLEDGEMENTS_FILE), JSON.stringify({ acknowledged: entries }, null, 2));
}

const check = (options: { allowBreaking?: boolean } = {}) => checkSchema({ root: repo, ...options });

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'schema-check-'));
  const committed = (path: string) => execFileSync('git', ['-C', ROOT, 'show', `HEAD:${path}`], { encoding: 'utf8' });
  for (const path of [...subgraphs.map((s) => s.sdl), SUPERGRAPH_FILE]) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), committed(path));
  }
  cpSync(join(ROOT, OPERATIONS_DIR), join(repo, OPERATIONS_DIR), { recursive: true });
  git('init', '--quiet', '--initial-branch=main');
  git('add', '.');
  git('-c', 'user.name=test', '-c', 'user.email=test@stockgraph.local', 'commit', '--quiet', '-m', 'fixture');
});

afterEach(() => {
  // Back to the committed fixture, including files a test added.
  git('checkout', '--quiet', '--', '.');
  git('clean', '--quiet', '-fd');
});

afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe('schema:check', () => {
  it('passes on an unchanged schema and validates every shipped operation', async () => {
    const report = await check();
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.changes).toEqual([]);
    expect(report.operations.length).toBeGreaterThanOrEqual(9);
    expect(report.operations.filter((o) => o.errors.length > 0)).toEqual([]);
  });

  it('fails on a removed field that an operation uses, and names the operation', async () => {
    writeSdl('orders', removeField(readSdl('orders'), 'Product', 'unitsSold'));
    const report = await check();
    expect(report.ok).toBe(false);
    const removal = report.changes.find((c) => c.schema === 'supergraph' && c.path === 'Product.unitsSold');
    expect(removal).toMatchObject({ level: 'breaking', type: 'FIELD_REMOVED' });
    expect(removal!.operations.map((o) => o.name).sort()).toEqual(['Dashboard', 'ProductDetail']);
    expect(report.changes.find((c) => c.schema === 'orders' && c.path === 'Product.unitsSold')).toMatchObject({
      level: 'breaking',
    });
    const invalid = report.operations.filter((o) => o.errors.length > 0);
    expect(invalid.map((o) => o.name).sort()).toEqual(['Dashboard', 'ProductDetail']);
    expect(invalid[0]!.errors[0]!.message).toMatch(/Cannot query field "unitsSold" on type "Product"/);
    expect(report.failures.join('\n')).toMatch(
      /breaking change.*not acknowledged[\s\S]*2 client operations no longer validate/,
    );
  });

  it('fails on a field type change', async () => {
    writeSdl('inventory', retypeField(readSdl('inventory'), 'Product', 'onHand', 'Float'));
    const report = await check();
    expect(report.ok).toBe(false);
    const change = report.changes.find((c) => c.schema === 'supergraph' && c.path === 'Product.onHand');
    expect(change).toMatchObject({ level: 'breaking', type: 'FIELD_TYPE_CHANGED' });
    expect(change!.operations.map((o) => o.name)).toContain('StockBySku');
    // Selecting a Float is still valid GraphQL: what fails is the unacknowledged break, not validation.
    expect(report.operations.every((o) => o.errors.length === 0)).toBe(true);
    expect(report.failures).toEqual([expect.stringMatching(/1 breaking change not acknowledged/)]);
  });

  it('fails on a composition error, naming the subgraphs, type and field', async () => {
    writeSdl('orders', addField(readSdl('orders'), 'Product', 'sku: Int!'));
    const report = await check();
    expect(report.ok).toBe(false);
    expect(report.composition.ok).toBe(false);
    const mismatch = report.composition.errors.find((e) => e.code === 'FIELD_TYPE_MISMATCH');
    expect(mismatch?.locations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          subgraph: 'orders',
          path: 'subgraphs/orders/src/schema.graphql',
          coordinate: 'Product.sku',
        }),
        expect.objectContaining({ subgraph: 'inventory', coordinate: 'Product.sku' }),
      ]),
    );
    expect(report.failures[0]).toMatch(/composition failed/);
  });

  it('passes on an added optional field and argument, classified safe', async () => {
    let sdl = addField(readSdl('inventory'), 'Product', 'barcode: String');
    sdl = sdl.replace(/productBySku\(sku: String!\)/, 'productBySku(sku: String!, includeArchived: Boolean = false)');
    writeSdl('inventory', sdl);
    const report = await check();
    expect(report.failures).toEqual([]);
    const supergraph = report.changes.filter((c) => c.schema === 'supergraph');
    expect(supergraph.map((c) => [c.level, c.type, c.path])).toEqual(
      expect.arrayContaining([
        ['safe', 'FIELD_ADDED', 'Product.barcode'],
        ['dangerous', 'FIELD_ARGUMENT_ADDED', 'Query.productBySku.includeArchived'],
      ]),
    );
    expect(supergraph.filter((c) => c.level === 'breaking')).toEqual([]);
  });

  it('passes a breaking change listed in the acknowledgement file, and reports the reason', async () => {
    writeSdl('customers', retypeField(readSdl('customers'), 'Customer', 'notes', 'Int'));
    expect((await check()).ok).toBe(false);
    const reason = 'Notes became a reference number; no shipped client reads them (mobile and web teams, 2026-03-01).';
    acknowledge([{ path: 'Customer.notes', change: 'FIELD_TYPE_CHANGED', reason }]);
    const report = await check();
    expect(report.failures).toEqual([]);
    expect(report.changes.filter((c) => c.level === 'breaking').every((c) => c.acknowledged === reason)).toBe(true);
    expect(report.unusedAcknowledgements).toEqual([]);
  });

  it('keeps failing while an operation still uses an acknowledged removal', async () => {
    writeSdl('orders', removeField(readSdl('orders'), 'Product', 'unitsSold'));
    acknowledge([
      { path: 'Product.unitsSold', reason: 'Moving to a sales report; the two operations are updated in this change.' },
    ]);
    const report = await check();
    expect(report.changes.filter((c) => c.level === 'breaking').every((c) => c.acknowledged)).toBe(true);
    expect(report.failures).toEqual([expect.stringMatching(/2 client operations no longer validate/)]);
  });

  it('passes a breaking change with allowBreaking, and reports unused acknowledgements', async () => {
    writeSdl('inventory', retypeField(readSdl('inventory'), 'Product', 'reorderLevel', 'Float'));
    acknowledge([
      { path: 'Product.name', change: 'FIELD_REMOVED', reason: 'An old removal that has since been released.' },
    ]);
    const report = await check({ allowBreaking: true });
    expect(report.ok).toBe(true);
    expect(report.unusedAcknowledgements).toEqual([expect.objectContaining({ path: 'Product.name' })]);
  });

  it('fails on a new operation that does not validate, naming it and its place', async () => {
    writeFileSync(
      join(repo, OPERATIONS_DIR, 'broken.graphql'),
      'query Broken {\n  products {\n    edges { node { barcode } }\n  }\n}\n',
    );
    const report = await check();
    const broken = report.operations.find((o) => o.name === 'Broken');
    expect(broken?.errors[0]).toEqual({
      message: 'Cannot query field "barcode" on type "Product".',
      location: 'schema/operations/broken.graphql:3:20',
    });
    expect(report.ok).toBe(false);
  });
});

describe('schema:check on the command line', () => {
  const cli = (...args: string[]) => run('schema/check.ts', {}, ['--root', repo, ...args]);

  it('prints the report, writes JSON and Markdown, and exits 1 on a breaking change', async () => {
    writeSdl('orders', removeField(readSdl('orders'), 'Product', 'unitsSold'));
    const out = mkdtempSync(join(tmpdir(), 'schema-check-out-'));
    try {
      const result = await cli('--json', join(out, 'report.json'), '--markdown', join(out, 'report.md'));
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/✖ BREAKING\s+Product\.unitsSold\s+FIELD_REMOVED/);
      expect(result.stdout).toMatch(/breaks operations: .*Dashboard \(schema\/operations\/dashboard\.graphql\)/);
      expect(result.stdout).toMatch(/✖ schema:check failed/);
      const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(json.ok).toBe(false);
      expect(json.changes.some((c: { path?: string }) => c.path === 'Product.unitsSold')).toBe(true);
      expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(
        /❌ Schema check failed[\s\S]*`Product\.unitsSold`[\s\S]*`ProductDetail`/,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('exits 0 on an unchanged schema', async () => {
    const result = await cli();
    expect(result.stdout).toContain('✔ schema:check passed');
    expect(result.code).toBe(0);
  });

  it('refuses bad flags, an unknown base and an unreviewed acknowledgement with exit 2 and a clear message', async () => {
    const unknown = await cli('--allow-braking');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--allow-braking'[\s\S]*Usage: pnpm schema:check/);
    const base = await cli('--base', 'no-such-branch');
    expect(base.code).toBe(2);
    expect(base.stderr).toContain('--base "no-such-branch" is not a commit');
    acknowledge([{ path: 'Product.onHand', reason: 'ok' }]);
    const ack = await cli();
    expect(ack.code).toBe(2);
    expect(ack.stderr).toMatch(/breaking-changes\.json is invalid:\n {2}- acknowledged\.0\.reason: say why/);
  });
});

describe('schema:check --usage', () => {
  let database: TestDatabase;
  const days = 30;
  // The gateway's settings, flushed by hand.
  const settings = (url: string) => usageTestEnv(url, { USAGE_RETENTION_DAYS: days });

  /** Real traffic, as the gateway's recorder stores it: web 2.3.1 read Customer.address three times. */
  beforeAll(async () => {
    database = await createTestDatabase('schema_check_usage');
    const recorder = createUsageRecorder<{ client: { name: string; version: string } }>({
      env: settings(database.url),
      logger: createLogger('usage', 'silent'),
      registry: new Registry(),
      clientOf: ({ contextValue }) => contextValue.client,
    });
    const schema = apiSchemaOf(readFileSync(join(repo, SUPERGRAPH_FILE), 'utf8'));
    const web = { client: { name: 'web', version: '2.3.1' } };
    for (let i = 0; i < 3; i++)
      await recordOperation(recorder, {
        schema,
        contextValue: web,
        query: 'query ($id: ID!) { customer(id: $id) { name address } }',
        variables: { id: 'c1' },
      });
    await recordOperation(recorder, { schema, contextValue: web, query: '{ products { totalCount } }' });
    await recorder.stop();
  });

  afterAll(async () => {
    await database?.drop();
  });

  const usage = () => ({ url: database.url, days });

  it('fails on a removed field a client used, naming the client, version, count and last seen', async () => {
    writeSdl('customers', removeField(readSdl('customers'), 'Customer', 'address'));
    // An acknowledgement does not outweigh traffic: its reason is what the traffic disproves.
    acknowledge([{ path: 'Customer.address', reason: 'No shipped client reads the address any more.' }]);
    const report = await checkSchema({ root: repo, usage: usage() });
    expect(report.ok).toBe(false);
    const removal = report.changes.find((c) => c.schema === 'supergraph' && c.path === 'Customer.address');
    expect(removal?.usage).toEqual([
      { client: 'web', version: '2.3.1', count: 3, lastSeen: expect.any(String), coordinates: ['Customer.address'] },
    ]);
    expect(Date.now() - Date.parse(removal!.usage![0]!.lastSeen)).toBeLessThan(10 * 60_000);
    expect(report.failures).toEqual([
      expect.stringMatching(
        /^1 breaking change used by clients in the last 30 days: Customer\.address \(web 2\.3\.1: 3 operations, last seen \d{4}-/,
      ),
    ]);
    expect(report.usage).toMatchObject({ days: 30, recordedSince: expect.any(String) });
  });

  it('passes a removed field no client used, with a note, without an acknowledgement', async () => {
    writeSdl('customers', removeField(readSdl('customers'), 'Customer', 'notes'));
    // Without usage the same change fails, unacknowledged.
    expect((await check()).ok).toBe(false);
    const report = await checkSchema({ root: repo, usage: usage() });
    expect(report.failures).toEqual([]);
    const removal = report.changes.find((c) => c.schema === 'supergraph' && c.path === 'Customer.notes');
    expect(removal).toMatchObject({ level: 'breaking', usage: [] });
    const printed = await run('schema/check.ts', {}, ['--root', repo, '--usage', database.url, '--days', '30']);
    expect(printed.stdout).toMatch(
      /✖ BREAKING\s+Customer\.notes\s+FIELD_REMOVED[\s\S]*note: no client used it in the last 30 days, so it needs no acknowledgement/,
    );
    expect(printed.stdout).toContain('✔ schema:check passed');
    expect(printed.code).toBe(0);
  });

  it('prints the clients of a used removal on the command line and exits 1', async () => {
    writeSdl('customers', removeField(readSdl('customers'), 'Customer', 'address'));
    const result = await run('schema/check.ts', {}, ['--root', repo, '--usage', database.url]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /Customer\.address\s+FIELD_REMOVED[\s\S]*used in the last 30 days by:\n\s+web 2\.3\.1: 3 operations, last seen \d{4}-/,
    );
    expect(result.stdout).toMatch(/✖ schema:check failed:[\s\S]*used by clients in the last 30 days/);
  });

  it('refuses a bad --usage or --days, and a store it cannot read, with exit 2', async () => {
    const cli = (...args: string[]) => run('schema/check.ts', {}, ['--root', repo, ...args]);
    // A store with the table and nothing in it: the recorder migrates it at start.
    const empty = await createTestDatabase('schema_check_usage_empty');
    await createUsageRecorder({
      env: settings(empty.url),
      logger: createLogger('usage', 'silent'),
      registry: new Registry(),
      clientOf: () => ({ name: 'web', version: '1' }),
    }).stop();
    const cases: [string[], RegExp][] = [
      [['--usage', 'mysql://db/usage'], /--usage needs a postgres:\/\/ or postgresql:\/\/ URL/],
      [['--usage', database.url, '--days', '0'], /--days needs a whole number of days from 1 to 3650, got "0"/],
      [['--usage', database.url, '--days', 'week'], /--days needs a whole number/],
      [['--days', '7'], /--days goes with --usage/],
      [
        ['--usage', 'postgres://postgres@127.0.0.1:1/usage'],
        /cannot reach the usage database postgres:\/\/postgres@127\.0\.0\.1:1\/usage/,
      ],
      [['--usage', 'postgres://postgres@127.0.0.1:5432/postgres'], /holds no usage table/],
      [['--usage', empty.url], /holds no recorded usage: is a gateway recording into it/],
    ];
    // Side by side: each is a cold Node start.
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    await empty.drop();
    cases.forEach(([args, message], i) => {
      expect(results[i]!.code, `${args.join(' ')}: ${results[i]!.stderr}`).toBe(2);
      expect(results[i]!.stderr).toMatch(message);
    });
  });
});
