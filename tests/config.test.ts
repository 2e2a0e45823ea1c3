import { run } from '@stockgraph/testkit';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv, parseSubgraphEnv, retentionEnvShape } from '@stockgraph/config';

describe('environment validation', () => {
  it('takes PARTITION_RETENTION_MONTHS as whole months, unset meaning keep everything', () => {
    expect(parseEnv('cli', retentionEnvShape, {}).PARTITION_RETENTION_MONTHS).toBeUndefined();
    expect(parseEnv('cli', retentionEnvShape, { PARTITION_RETENTION_MONTHS: '24' }).PARTITION_RETENTION_MONTHS).toBe(
      24,
    );
    for (const bad of ['0', '1.5', 'a year', '-3'])
      expect(() => parseEnv('cli', retentionEnvShape, { PARTITION_RETENTION_MONTHS: bad })).toThrow(
        /PARTITION_RETENTION_MONTHS/,
      );
  });

  it('reports every bad variable at once, naming each', () => {
    let error: unknown;
    try {
      parseSubgraphEnv('orders', 4003, {
        PORT: 'eighty',
        DATABASE_URL: 'mysql://db/x',
        LOG_LEVEL: 'loud',
        SEED_DEMO_DATA: 'maybe',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'SEED_DEMO_DATA']) expect(message).toContain(name);
  });

  it('checks the OpenTelemetry variables with the rest, and leaves tracing off by default', () => {
    expect(() =>
      parseSubgraphEnv('orders', 4003, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '2',
      }),
    ).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT[\s\S]*OTEL_EXPORTER_OTLP_PROTOCOL[\s\S]*OTEL_TRACES_SAMPLER=[\s\S]*_ARG/);
    const env = parseSubgraphEnv('orders', 4003, {});
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(env.OTEL_TRACES_SAMPLER).toBe('parentbased_always_on');
  });

  it('applies defaults and coerces types', () => {
    const env = parseSubgraphEnv('orders', 4003, { DATABASE_POOL_MAX: '7', SEED_DEMO_DATA: 'false' });
    expect(env).toMatchObject({ PORT: 4003, DATABASE_POOL_MAX: 7, SEED_DEMO_DATA: false, NODE_ENV: 'development' });
  });

  it('reads replica URLs as a list of postgres URLs, and only beside a primary', () => {
    const env = parseSubgraphEnv('orders', 4003, {
      DATABASE_URL: 'postgres://primary/x',
      DATABASE_REPLICA_URLS: 'postgres://r1/x, postgresql://r2/x',
    });
    expect(env.DATABASE_REPLICA_URLS).toEqual(['postgres://r1/x', 'postgresql://r2/x']);
    expect(parseSubgraphEnv('orders', 4003, {}).DATABASE_REPLICA_URLS).toEqual([]);
    expect(() =>
      parseSubgraphEnv('orders', 4003, { DATABASE_URL: 'postgres://primary/x', DATABASE_REPLICA_URLS: 'http://r1/x' }),
    ).toThrow(/DATABASE_REPLICA_URLS/);
    expect(() => parseSubgraphEnv('orders', 4003, { DATABASE_REPLICA_URLS: 'postgres://r1/x' })).toThrow(
      /DATABASE_REPLICA_URLS: needs DATABASE_URL/,
    );
  });

  it('refuses the embedded database and demo data in production', () => {
    expect(() => parseSubgraphEnv('orders', 4003, { NODE_ENV: 'production' })).toThrow(
      /DATABASE_URL: required in production/,
    );
    expect(() =>
      parseSubgraphEnv('orders', 4003, {
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/x',
        SEED_DEMO_DATA: 'true',
      }),
    ).toThrow(/SEED_DEMO_DATA/);
  });

  it('stops a service at start with one clear message and no stack trace', async () => {
    const result = await run('subgraphs/orders/src/server.ts', {
      PORT: '99999',
      DATABASE_URL: 'not a url',
      NODE_ENV: 'test',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^orders: invalid configuration/);
    expect(result.stderr).toContain('PORT="99999"');
    expect(result.stderr).toContain('DATABASE_URL');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses to start the users service in production without a signing key', async () => {
    const result = await run('subgraphs/users/src/server.ts', {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://127.0.0.1:1/x',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('JWT_PRIVATE_KEY: required in production');
    const bad = await run('subgraphs/users/src/server.ts', {
      NODE_ENV: 'test',
      JWT_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nnot a key\\n-----END PRIVATE KEY-----',
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('JWT_PRIVATE_KEY: not a readable private key');
  });

  it('refuses a gateway subgraph URL that is not http(s)', async () => {
    const result = await run('gateway/src/server.ts', { ORDERS_URL: 'ftp://orders', NODE_ENV: 'test' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ORDERS_URL');
  });
});
