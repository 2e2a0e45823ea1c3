import { generateKeyPairSync } from 'node:crypto';
import { createTestDatabase, run, type TestDatabase } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Started in production with something wrong, a service stops at once with one clear message. */
let database: TestDatabase;
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

beforeAll(async () => {
  database = await createTestDatabase('prodstart');
});

afterAll(async () => {
  await database?.drop();
});

function startUsers(env: Record<string, string>) {
  return run('subgraphs/users/src/server.ts', {
    NODE_ENV: 'production',
    PORT: '0',
    REDIS_URL: 'redis://127.0.0.1:6379',
    SUBGRAPH_SHARED_SECRET: 'production-start-secret-0123456789abcdef',
    ...env,
  });
}

/** Exit 1, the message on stderr, and no stack trace anywhere. */
function expectOneMessage(result: { code: number | null; stdout: string; stderr: string }, message: string) {
  expect(result.code, result.stdout + result.stderr).toBe(1);
  expect(result.stderr).toContain(message);
  expect(result.stderr + result.stdout).not.toMatch(/^\s+at /m);
}

describe('production start with bad input', () => {
  it('names every missing required variable at once', async () => {
    const result = await startUsers({ REDIS_URL: '' });
    expectOneMessage(result, 'users: invalid configuration');
    expect(result.stderr).toContain('DATABASE_URL: required in production');
    expect(result.stderr).toContain('REDIS_URL: required in production');
    expect(result.stderr).toContain('JWT_PRIVATE_KEY: required in production');
  });

  it('refuses to start without the gateway-subgraph secret', async () => {
    const result = await startUsers({ SUBGRAPH_SHARED_SECRET: '', DATABASE_URL: database.url, JWT_PRIVATE_KEY: p256 });
    expectOneMessage(result, 'SUBGRAPH_SHARED_SECRET: required in production');
  });

  it('says which database it cannot reach, without the password', async () => {
    const result = await startUsers({
      DATABASE_URL: 'postgres://svc:hunter2@127.0.0.1:1/stockgraph',
      JWT_PRIVATE_KEY: p256,
    });
    expectOneMessage(result, 'DATABASE_URL: cannot reach the database 127.0.0.1:1/stockgraph (connect ECONNREFUSED');
    expect(result.stderr + result.stdout).not.toContain('hunter2');
  });

  it('refuses a signing key that is not P-256', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const result = await startUsers({ DATABASE_URL: database.url, JWT_PRIVATE_KEY: p384 });
    expectOneMessage(result, 'JWT_PRIVATE_KEY: must be an EC P-256 key (ES256)');
  });
});
