/**
 * Gateways side by side on one supergraph: the Stockgraph gateway with every feature on, stock
 * @apollo/gateway with only header forwarding, Hive Gateway with and without the Rust query planner, and
 * the inventory subgraph called directly (the floor). Every service is its own process in production
 * mode on the machine's PostgreSQL (demo data) and Redis. Targets are loaded interleaved, one after
 * another, round after round; CPU per request is the target process's own CPU time (/proc/<pid>/stat)
 * over the round. `stockgraph` runs with the response cache and deduplication off (the gateway's own
 * cost per request); `cached` is the same gateway with both on, for the read mix (`readmix`): many
 * users reading the catalogue, stock by SKU and their order history while stock changes arrive, each
 * change checked for a stale answer against the database, with the cache's hit ratio.
 *
 *   pnpm bench:gateway [--seconds 10] [--rounds 3] [--warmup 3] [--connections 10]
 *                      [--scenarios trivial,fanout,persisted,denied,readmix]
 *                      [--targets stockgraph,cached,apollo,hive,hive-rust,floor] [--tsx] [--json out.json]
 *                      [--baseline DIR] [--profile DIR] [--tracing]
 *
 * By default services run from `pnpm build`'s output (built first); `--tsx` runs the sources instead.
 * `--baseline DIR` adds the built gateway of another checkout (run `pnpm install && pnpm build` there),
 * so a change is measured before and after in one run. `--profile DIR` runs our gateway, stock
 * @apollo/gateway and the floor with V8's CPU profiler over the same load and prints where their time
 * went (the .cpuprofile files stay in DIR for Chrome DevTools or speedscope). Beside each target's own
 * CPU, the table gives what the subgraphs, PostgreSQL + Redis and this process (the load generator,
 * which also reads every service's log lines) spent per request, and how much of the machine sat idle:
 * on a closed loop of connections, idle CPU is latency that no process spent working. `--tracing` measures the Stockgraph gateway three times instead:
 * tracing off, sampling 10% and 100% of operations, exporting OTLP (http/protobuf) to a sink in this
 * process; the subgraphs run the SDK too and follow the gateway's sampling decision.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateDemoData } from '@stockgraph/demo-data';
import { graphql, ROOT, startOtlpReceiver, startProcess, startStack, type ServiceProcess } from '@stockgraph/testkit';
import { SUBGRAPHS, tokenIssuer, urlVariable } from '@stockgraph/registry';
import { SUBGRAPH_SECRET_HEADER } from '@stockgraph/server';
import autocannon from 'autocannon';
import { dropRedisKeys, REDIS_URL } from '@stockgraph/testkit/saga';
import { cpuMs, cpuMsOfNamed, machineTicks, rssMb } from './proc-stats.js';
import { summariseProfiles } from './profile-summary.js';
import { APQ_REGISTRATION, HOT_PRODUCTS, SCENARIOS, STOCK_BY_SKU_QUERY, type Scenario } from './gateway-scenarios.js';
import postgres from 'postgres';

const TARGETS = [
  'stockgraph',
  'cached',
  'traced-10',
  'traced-100',
  'baseline',
  'apollo',
  'hive',
  'hive-rust',
  'floor',
] as const;
type TargetName = (typeof TARGETS)[number];
/** The traced variants run the scenarios the Stockgraph gateway runs. */
const kindOf = (t: TargetName) => (t === 'traced-10' || t === 'traced-100' ? 'stockgraph' : t);
const LABELS: Record<TargetName, string> = {
  stockgraph: 'Stockgraph gateway',
  cached: 'Stockgraph gateway, response cache on',
  'traced-10': 'Stockgraph gateway, tracing 10%',
  'traced-100': 'Stockgraph gateway, tracing 100%',
  baseline: 'Stockgraph gateway (--baseline)',
  apollo: 'stock @apollo/gateway',
  hive: 'Hive Gateway',
  'hive-rust': 'Hive Gateway + Rust planner',
  floor: 'inventory subgraph direct',
};

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    scenarios: { type: 'string', default: Object.keys(SCENARIOS).join(',') },
    targets: { type: 'string', default: TARGETS.join(',') },
    tsx: { type: 'boolean', default: false },
    json: { type: 'string' },
    baseline: { type: 'string' },
    profile: { type: 'string' },
    tracing: { type: 'boolean', default: false },
  },
  strict: true,
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const scenarioNames = values.scenarios.split(',');
const targetNames = (values.tracing ? 'stockgraph,traced-10,traced-100' : values.targets).split(',') as TargetName[];
// Another checkout's built gateway (e.g. main, `pnpm build` run there) measured in the same run: before/after.
if (values.baseline && !targetNames.includes('baseline')) targetNames.splice(1, 0, 'baseline');
if (!values.baseline && targetNames.includes('baseline')) targetNames.splice(targetNames.indexOf('baseline'), 1);
if (
  ![seconds, rounds, connections].every((n) => Number.isInteger(n) && n >= 1) ||
  !Number.isInteger(warmup) ||
  warmup < 0 ||
  scenarioNames.some((s) => !(s in SCENARIOS)) ||
  targetNames.some((t) => !TARGETS.includes(t))
) {
  process.stderr.write(
    `usage: pnpm bench:gateway [--seconds N] [--rounds N] [--warmup N] [--connections N] ` +
      `[--scenarios ${Object.keys(SCENARIOS).join(',')}] [--targets ${TARGETS.join(',')}] [--tsx] [--json FILE]\n`,
  );
  process.exit(2);
}

/** A service's entry: its built bundle (`pnpm build`), or its source through tsx with `--tsx`. */
const entry = (dir: string) => (values.tsx ? `${dir}/src/server.ts` : `${dir}/dist/${dir}/src/server.js`);
if (!values.tsx) execFileSync('pnpm', ['build'], { cwd: ROOT, stdio: 'inherit' });

const secret = randomBytes(32).toString('base64url');
/** The read mix: how many users, how often stock changes, and the invalidation bound its checks hold answers to. */
const CROWD_SIZE = 20;
const CHANGE_EVERY_MS = 200;
const CHECK_AFTER_MS = 1000;
const prefix = `sgbench:${randomBytes(6).toString('hex')}:`;
const demo = generateDemoData();
// --tracing: every service exports to this sink; off, no OTEL_* variable is set anywhere.
const sink = values.tracing ? await startOtlpReceiver() : null;
const subgraphTracing: Record<string, string> = sink
  ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_TRACES_SAMPLER: 'parentbased_always_off' }
  : {};
const gatewayTracing: Partial<Record<TargetName, Record<string, string>>> = sink
  ? {
      'traced-10': {
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      },
      'traced-100': { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
    }
  : {};
const production = {
  NODE_ENV: 'production',
  REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  EVENTS_PREFIX: prefix,
  SUBGRAPH_SHARED_SECRET: secret,
  SEED_DEMO_DATA: 'false',
  DATABASE_POOL_MAX: '10',
  PORT: '0',
};

// The test stack seeds the demo data (development only); then every service restarts in production.
const seeded = await startStack({ env: { SUBGRAPH_SHARED_SECRET: secret } });
const { database, signingKeyPem } = seeded;
await Promise.all([...Object.values(seeded.subgraphs), seeded.gateway].map((s) => s.stop()));

const started: ServiceProcess[] = [];
const profileDir = values.profile ? path.resolve(values.profile) : undefined;
/** V8 writes the profile when the process exits, so a profiled process is stopped before the summary. */
const profiled = (dir: string) => ['--cpu-prof', `--cpu-prof-dir=${dir}`];
const start = async (file: string, env: Record<string, string>, nodeArgs: string[] = []) => {
  const loader = values.tsx && file.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const service = await startProcess(file, env, undefined, [...nodeArgs, ...loader]);
  started.push(service);
  return service;
};

try {
  const issuer = tokenIssuer();
  const users = await start(entry(issuer.dir), {
    ...production,
    ...subgraphTracing,
    DATABASE_URL: database.url,
    JWT_PRIVATE_KEY: signingKeyPem,
    JWT_KEY_ID: 'bench-key',
    // Long enough that no token expires during a run.
    ACCESS_TOKEN_TTL_SECONDS: '3600',
  });
  const JWKS_URL = new URL('/.well-known/jwks.json', users.url).toString();
  const subgraphs: Record<string, ServiceProcess> = { [issuer.name]: users };
  for (const { name, dir } of SUBGRAPHS.filter((s) => s !== issuer)) {
    subgraphs[name] = await start(
      entry(dir),
      { ...production, ...subgraphTracing, DATABASE_URL: database.url, JWKS_URL },
      profileDir && name === 'inventory' ? profiled(path.join(profileDir, 'inventory')) : [],
    );
  }
  const urls = Object.fromEntries(SUBGRAPHS.map((s) => [urlVariable(s), subgraphs[s.name]!.url]));
  // Every gateway gets the same supergraph, pointing at these processes.
  const dir = await mkdtemp(path.join(tmpdir(), 'sgbench-'));
  const supergraphPath = path.join(dir, 'supergraph.graphql');
  let sdl = readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8');
  for (const { name } of SUBGRAPHS)
    sdl = sdl.replace(new RegExp(`(name: "${name}", url: ")[^"]+`), `$1${subgraphs[name]!.url}`);
  writeFileSync(supergraphPath, sdl);
  const targetEnv = {
    BENCH_SUPERGRAPH_PATH: supergraphPath,
    BENCH_SUBGRAPH_SECRET: secret,
    BENCH_SECRET_HEADER: SUBGRAPH_SECRET_HEADER,
    BENCH_PERSISTED_PATH: path.join(ROOT, 'schema/generated/persisted-documents.json'),
    NODE_ENV: 'production',
  };
  const targets: Partial<Record<TargetName, ServiceProcess>> = {};
  for (const name of targetNames) {
    if (name === 'floor') targets.floor = subgraphs.inventory;
    // Every feature on: authentication, authorization, limits, rate limits, persisted operations, metrics.
    const ours = {
      ...production,
      ...urls,
      JWKS_URL,
      SUPERGRAPH_PATH: supergraphPath,
      RATE_LIMIT_ENABLED: 'true',
      // Checked on every request, as in production, with a budget the bench's one user never meets.
      RATE_LIMIT_POINTS: '1000000000',
      METRICS_PORT: '0',
    };
    // The gateway's own cost per request: without the response cache and deduplication, which would
    // answer the other scenarios' few distinct variables from memory. `cached` has both on.
    const uncached = { RESPONSE_CACHE: 'false', QUERY_DEDUP: 'false' };
    if (name === 'stockgraph')
      targets.stockgraph = await start(
        entry('gateway'),
        { ...ours, ...uncached },
        profileDir ? profiled(path.join(profileDir, 'gateway')) : [],
      );
    if (name === 'cached')
      targets.cached = await start(entry('gateway'), ours, profileDir ? profiled(path.join(profileDir, 'cached')) : []);
    if (name === 'traced-10' || name === 'traced-100')
      targets[name] = await start(entry('gateway'), { ...ours, ...uncached, ...gatewayTracing[name] });
    if (name === 'baseline')
      targets.baseline = await start(path.resolve(values.baseline!, 'gateway/dist/gateway/src/server.js'), {
        ...ours,
        ...uncached,
        PERSISTED_OPERATIONS_PATH: path.join(ROOT, 'schema/generated/persisted-documents.json'),
      });
    if (name === 'apollo')
      targets.apollo = await start(
        'bench/gateways/apollo-gateway.ts',
        targetEnv,
        profileDir ? profiled(path.join(profileDir, 'apollo')) : [],
      );
    if (name === 'hive') targets.hive = await start('bench/gateways/hive-gateway.ts', targetEnv);
    if (name === 'hive-rust') targets['hive-rust'] = await start('bench/gateways/hive-gateway.ts --rust', targetEnv);
  }

  const login = async (email: string) => {
    const gatewayUrl = (targets.stockgraph ?? targets.apollo ?? targets.hive ?? targets['hive-rust'])?.url;
    const result = gatewayUrl
      ? await graphql(
          gatewayUrl,
          'mutation ($e: String!) { login(email: $e, password: "stockgraph") { accessToken } }',
          {
            e: email,
          },
        )
      : await graphql(
          users.url,
          'mutation ($e: String!) { login(email: $e, password: "stockgraph") { accessToken } }',
          { e: email },
          { [SUBGRAPH_SECRET_HEADER]: secret },
        );
    const token = (result.data as { login?: { accessToken: string } } | null)?.login?.accessToken;
    if (!token) throw new Error(`login ${email}: ${JSON.stringify(result.errors)}`);
    return `Bearer ${token}`;
  };
  const tokens = { manager: await login('manager@stockgraph.local'), viewer: await login('viewer@stockgraph.local') };
  const crowd = scenarioNames.some((s) => SCENARIOS[s]!.crowd) ? await crowdOf(CROWD_SIZE) : [];

  /** Viewers of their own, created and signed in at the users subgraph: the read mix's many users. */
  async function crowdOf(size: number): Promise<string[]> {
    const admin = await login('admin@stockgraph.local');
    const call = (query: string, variables: Record<string, unknown>, authorization?: string) =>
      graphql(users.url, query, variables, {
        [SUBGRAPH_SECRET_HEADER]: secret,
        ...(authorization ? { authorization } : {}),
      });
    const pool: string[] = [];
    for (let i = 0; i < size; i++) {
      const email = `bench-viewer-${i}-${randomBytes(3).toString('hex')}@stockgraph.test`;
      const created = await call(
        'mutation ($i: CreateUserInput!) { createUser(input: $i) { id } }',
        { i: { email, name: `Bench viewer ${i}`, role: 'VIEWER', password: 'stockgraph-bench' } },
        admin,
      );
      if (created.errors) throw new Error(`creating ${email}: ${JSON.stringify(created.errors)}`);
      const signedIn = await call(
        'mutation ($e: String!) { login(email: $e, password: "stockgraph-bench") { accessToken } }',
        {
          e: email,
        },
      );
      pool.push(`Bearer ${(signedIn.data as { login: { accessToken: string } }).login.accessToken}`);
    }
    return pool;
  }

  /**
   * While a crowd scenario runs: a stock change every CHANGE_EVERY_MS on one of the busiest products,
   * made at the inventory subgraph (so no gateway sees it as its own mutation), and CHECK_AFTER_MS later
   * the target's answer for that product compared with the database read just before and just after it.
   * Stock only grows here, so an answer below the first read is stale: older than the bound.
   */
  function changesDuring(target: ServiceProcess) {
    const sql = postgres(database.url, { max: 2, onnotice: () => {} });
    const hot = demo.products.slice(0, HOT_PRODUCTS);
    // Each change, then its check: true when the answer was stale, null when the change itself failed.
    const checks: Promise<boolean | null>[] = [];
    const onHand = async (id: string) =>
      Number((await sql`select on_hand from inventory.products where id = ${id}`)[0]!.on_hand);
    const check = async (product: (typeof hot)[number]) => {
      const before = await onHand(product.id);
      const answer = await graphql(target.url, STOCK_BY_SKU_QUERY, { sku: product.sku }, { authorization: crowd[0]! });
      const after = await onHand(product.id);
      const seen = (answer.data as { productBySku?: { onHand: number } } | null)?.productBySku?.onHand;
      return seen === undefined || seen < before || seen > after;
    };
    const timer = setInterval(() => {
      const product = hot[Math.floor(Math.random() * hot.length)]!;
      checks.push(
        graphql(
          subgraphs.inventory!.url,
          'mutation ($id: ID!) { adjustStock(productId: $id, delta: 1, reason: ADJUSTMENT) { onHand } }',
          { id: product.id },
          { [SUBGRAPH_SECRET_HEADER]: secret, authorization: tokens.manager },
        ).then(async (changed) => {
          if (changed.errors) return null;
          await new Promise((resolve) => setTimeout(resolve, CHECK_AFTER_MS));
          return check(product);
        }),
      );
    }, CHANGE_EVERY_MS);
    return async () => {
      clearInterval(timer);
      const outcomes = await Promise.all(checks);
      await sql.end();
      const made = outcomes.filter((o) => o !== null);
      return { changes: made.length, checks: made.length, stale: made.filter(Boolean).length };
    };
  }

  interface Round {
    requests: number;
    errors: number;
    non2xx: number;
    seconds: number;
    cpuMs: number;
    p50: number;
    p99: number;
    rssMb: number;
    /** Answers the response cache gave (its Cache-Status header), and stock changes with stale answers after them. */
    hits: number;
    /** CPU of the subgraph processes (none for the floor: it is the target) and of PostgreSQL and Redis. */
    subgraphCpuMs: number;
    dataCpuMs: number;
    /** CPU of this process (autocannon, and reading the services' log lines) and the machine's idle share. */
    benchCpuMs: number;
    idle: number;
    changes: number;
    checks: number;
    stale: number;
  }
  const results = new Map<string, Round[]>();

  const load = async (scenario: Scenario, target: TargetName, duration: number): Promise<Round> => {
    const service = targets[target]!;
    const pid = service.child.pid!;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      authorization: tokens[scenario.role],
      // The floor is called as the gateway calls it.
      ...(target === 'floor' ? { [SUBGRAPH_SECRET_HEADER]: secret } : {}),
    };
    const cpuBefore = cpuMs(pid);
    // What the rest of the system spends on the same requests: the subgraphs, PostgreSQL and Redis.
    const subgraphPids = Object.values(subgraphs).map((s) => s.child.pid!);
    const subgraphsBefore = subgraphPids.reduce((n, p) => n + cpuMs(p), 0);
    const dataBefore = cpuMsOfNamed('postgres', 'redis-server');
    const benchBefore = process.cpuUsage();
    const machineBefore = machineTicks();
    let hits = 0;
    const stopChanges = scenario.crowd ? changesDuring(service) : null;
    const result = await autocannon({
      url: service.url,
      method: 'POST',
      connections,
      duration,
      headers,
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            headers: scenario.crowd
              ? { ...request.headers, authorization: crowd[Math.floor(Math.random() * crowd.length)]! }
              : request.headers,
            body: JSON.stringify(scenario.body(demo)),
          }),
          onResponse: (_status, _body, _context, responseHeaders) => {
            if (/; hit\b/.test(String(responseHeaders?.['cache-status'] ?? ''))) hits++;
          },
        },
      ],
    });
    const cpu = cpuMs(pid) - cpuBefore;
    const subgraphCpu = target === 'floor' ? 0 : subgraphPids.reduce((n, p) => n + cpuMs(p), 0) - subgraphsBefore;
    const dataCpu = cpuMsOfNamed('postgres', 'redis-server') - dataBefore;
    const benchUsage = process.cpuUsage(benchBefore);
    const machineAfter = machineTicks();
    const changed = (await stopChanges?.()) ?? { changes: 0, checks: 0, stale: 0 };
    // Each service logs a line per operation, as in production; the bench keeps none of them.
    for (const s of started) s.output.length = 0;
    const requests = result.requests.total;
    return {
      requests,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      seconds: duration,
      cpuMs: cpu,
      p50: result.latency.p50,
      p99: result.latency.p99,
      rssMb: rssMb(pid),
      hits,
      subgraphCpuMs: subgraphCpu,
      dataCpuMs: dataCpu,
      benchCpuMs: (benchUsage.user + benchUsage.system) / 1000,
      idle: (machineAfter.idle - machineBefore.idle) / Math.max(1, machineAfter.total - machineBefore.total),
      ...changed,
    };
  };

  const pairs = scenarioNames.flatMap((s) =>
    targetNames.filter((t) => SCENARIOS[s]!.targets.includes(kindOf(t))).map((t) => [s, t] as const),
  );
  // One probe per pair: a target whose answer shows it is not doing the scenario's work is left out.
  const runnable: (readonly [string, TargetName])[] = [];
  const skipped: string[] = [];
  for (const [s, t] of pairs) {
    const scenario = SCENARIOS[s]!;
    const send = (body: Record<string, unknown>) =>
      fetch(targets[t]!.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: tokens[scenario.role],
          ...(t === 'floor' ? { [SUBGRAPH_SECRET_HEADER]: secret } : {}),
        },
        body: JSON.stringify(body),
      });
    if (s === 'persisted' && t === 'apollo')
      await send({ ...APQ_REGISTRATION, variables: scenario.body(demo).variables });
    const probe = await send(scenario.body(demo));
    const body = (await probe.json()) as { errors?: { extensions?: { code?: string } }[] };
    try {
      scenario.check(probe.status, body, kindOf(t));
    } catch (error) {
      // Reported, not measured: a target that cannot run a scenario has no figure for it.
      skipped.push(`${s} on ${LABELS[t]}: ${(error as Error).message}`);
      continue;
    }
    runnable.push([s, t]);
    if (warmup > 0) await load(scenario, t, warmup);
  }
  for (let round = 1; round <= rounds; round++) {
    for (const [s, t] of runnable) {
      const r = await load(SCENARIOS[s]!, t, seconds);
      results.set(`${s}/${t}`, [...(results.get(`${s}/${t}`) ?? []), r]);
      process.stderr.write(
        `round ${round} ${s} ${t}: ${(r.requests / r.seconds).toFixed(0)} req/s, ` +
          `${(r.cpuMs / Math.max(1, r.requests)).toFixed(2)} ms CPU/req\n`,
      );
    }
  }

  const load1 = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const summary = runnable.map(([s, t]) => {
    const rs = results.get(`${s}/${t}`)!;
    const requests = rs.reduce((n, r) => n + r.requests, 0);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return {
      scenario: s,
      target: t,
      reqPerSec: requests / rs.reduce((n, r) => n + r.seconds, 0),
      p50Ms: median(rs.map((r) => r.p50)),
      p99Ms: median(rs.map((r) => r.p99)),
      cpuMsPerRequest: rs.reduce((n, r) => n + r.cpuMs, 0) / Math.max(1, requests),
      subgraphCpuMsPerRequest: rs.reduce((n, r) => n + r.subgraphCpuMs, 0) / Math.max(1, requests),
      dataCpuMsPerRequest: rs.reduce((n, r) => n + r.dataCpuMs, 0) / Math.max(1, requests),
      benchCpuMsPerRequest: rs.reduce((n, r) => n + r.benchCpuMs, 0) / Math.max(1, requests),
      idlePercent: (100 * rs.reduce((n, r) => n + r.idle * r.seconds, 0)) / rs.reduce((n, r) => n + r.seconds, 0),
      rssMb: Math.max(...rs.map((r) => r.rssMb)),
      errors: rs.reduce((n, r) => n + r.errors, 0),
      non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
      hitRatio: rs.reduce((n, r) => n + r.hits, 0) / Math.max(1, requests),
      changes: rs.reduce((n, r) => n + r.changes, 0),
      checks: rs.reduce((n, r) => n + r.checks, 0),
      stale: rs.reduce((n, r) => n + r.stale, 0),
    };
  });
  const lines = [
    `${connections} connections, ${rounds} interleaved rounds of ${seconds} s per target, ` +
      `${values.tsx ? 'sources through tsx' : 'built output'}; load: ${load1}`,
    '',
    '| scenario | target | req/s | p50 ms | p99 ms | CPU ms/req | subgraphs CPU ms/req | PG + Redis CPU ms/req | load generator CPU ms/req | machine idle | RSS MB | × stock @apollo/gateway req/s | × floor req/s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of summary) {
    const of = (t: TargetName) => summary.find((r) => r.scenario === row.scenario && r.target === t);
    const ratio = (base: typeof row | undefined) => (base ? (row.reqPerSec / base.reqPerSec).toFixed(2) : '–');
    const flagged = row.errors + row.non2xx > 0 && !SCENARIOS[row.scenario]!.non2xxExpected;
    lines.push(
      `| ${row.scenario} | ${LABELS[row.target]}${flagged ? ` (${row.errors} errors, ${row.non2xx} non-2xx)` : ''} | ` +
        `${row.reqPerSec.toFixed(0)} | ${row.p50Ms} | ${row.p99Ms} | ${row.cpuMsPerRequest.toFixed(2)} | ` +
        `${row.subgraphCpuMsPerRequest.toFixed(2)} | ${row.dataCpuMsPerRequest.toFixed(2)} | ` +
        `${row.benchCpuMsPerRequest.toFixed(2)} | ${row.idlePercent.toFixed(0)}% | ` +
        `${row.rssMb.toFixed(0)} | ${ratio(of('apollo'))} | ${ratio(of('floor'))} |`,
    );
  }
  const crowdRows = summary.filter((row) => SCENARIOS[row.scenario]!.crowd);
  if (crowdRows.length > 0) {
    lines.push(
      '',
      `Read mix (${crowd.length} users; a stock change every ${CHANGE_EVERY_MS} ms, each checked ${CHECK_AFTER_MS} ms ` +
        'later against the database):',
      '',
      '| target | req/s | p50 ms | p99 ms | cache hits | stock changes | stale answers / checks | × stock @apollo/gateway req/s |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    const apollo = crowdRows.find((r) => r.target === 'apollo');
    for (const row of crowdRows)
      lines.push(
        `| ${LABELS[row.target]} | ${row.reqPerSec.toFixed(0)} | ${row.p50Ms} | ${row.p99Ms} | ` +
          `${(row.hitRatio * 100).toFixed(0)}% | ${row.changes} | ${row.stale} / ${row.checks} | ` +
          `${apollo ? (row.reqPerSec / apollo.reqPerSec).toFixed(2) : '–'} |`,
      );
  }
  if (sink) {
    // CPU per request is the gateway's own and moves less than req/s on a machine shared with other load.
    lines.push('', 'Tracing cost, off / 10% / 100%:');
    for (const s of scenarioNames) {
      const row = (t: TargetName) => summary.find((r) => r.scenario === s && r.target === t);
      const figures = (f: (r: NonNullable<ReturnType<typeof row>>) => string) =>
        (['stockgraph', 'traced-10', 'traced-100'] as const).map((t) => (row(t) ? f(row(t)!) : '–')).join(' / ');
      lines.push(
        `- ${s}: ${figures((r) => r.reqPerSec.toFixed(0))} req/s; ` +
          `${figures((r) => r.cpuMsPerRequest.toFixed(2))} gateway CPU ms/request`,
      );
    }
    lines.push(`(${sink.requests()} OTLP export requests received)`);
  }
  for (const note of skipped) lines.push('', `not measured: ${note}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = JSON.stringify(
    { connections, rounds, seconds, built: !values.tsx, load: load1, results: summary, skipped },
    null,
    2,
  );
  if (values.json) writeFileSync(values.json, json);
  else process.stdout.write(`${json}\n`);
  if (profileDir) {
    await Promise.all(started.map((s) => s.stop()));
    for (const name of ['gateway', 'cached', 'apollo', 'inventory'].filter((n) => existsSync(path.join(profileDir, n))))
      process.stdout.write(`\n${summariseProfiles(path.join(profileDir, name), `${name} CPU profile`)}\n`);
  }
} finally {
  await Promise.all(started.map((s) => s.stop()));
  await database.drop();
  await dropRedisKeys(prefix);
  await sink?.close();
}
