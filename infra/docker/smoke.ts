/**
 * Boots the pruned production output of infra/docker/build-service.sh as the images would run it and
 * passes a smoke test through the gateway. CI runs it after building in a clean copy:
 *
 *   tsx infra/docker/smoke.ts OUT_DIR
 *
 * On the machine's PostgreSQL (a fresh database, dropped after) and Redis (a key prefix of its own,
 * deleted after): the migration program migrates and creates one role per subgraph, the users
 * service's create-admin makes the first administrator (production seeds no one), and all five
 * services start with NODE_ENV=production, each subgraph connecting as its own role, each with its
 * package's own `start` script. Then: sign in, create a customer and a product, receive stock, place
 * an order, read it back with its customer and products (three subgraphs in one query), and stop
 * every service with SIGTERM, which must exit 0. The operator CLI's build (the checker image) checks every
 * invariant once and then serves the checks as metrics under --watch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  databaseUrlVariable,
  serviceDatabaseUrlVariable,
  SUBGRAPH_NAMES,
  SUBGRAPHS as REGISTERED,
  tokenIssuer,
  urlVariable,
} from '@stockgraph/registry';
import { createTestDatabase, graphql, TEST_SERVER_URL } from '@stockgraph/testkit';
import postgres from 'postgres';
import { createClient } from 'redis';

const out = path.resolve(process.argv[2] ?? '');
if (!process.argv[2]) throw new Error('usage: tsx infra/docker/smoke.ts OUT_DIR');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SUBGRAPHS = SUBGRAPH_NAMES;
const run = randomBytes(3).toString('hex');
const prefix = `sgsmoke:${run}:`;
const roleOf = (name: string) => `sgsmoke_${name}_${run}`;
const started: { name: string; child: ChildProcess; output: string[] }[] = [];

interface Started {
  url: string;
  child: ChildProcess;
  output: string[];
}

/** The package's own `start` script (`node … dist/…`), run in its pruned copy. */
function startCommand(service: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(out, service, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const words = manifest.scripts.start.split(/\s+/);
  if (words[0] !== 'node')
    throw new Error(`${service}: start should run the compiled output with node, not: ${manifest.scripts.start}`);
  return words.slice(1);
}

function exec(service: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: path.join(out, service),
      env: { PATH: process.env.PATH, ...env },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${service} ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

function boot(service: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, startCommand(service), {
    cwd: path.join(out, service),
    // Only what a container would get: no TypeScript loader, no development defaults.
    env: { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  started.push({ name: service, child, output });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${service} did not start in 60 s:\n${output.join('\n')}`)),
      60_000,
    );
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const record = line.startsWith('{') ? (JSON.parse(line) as { msg?: string; url?: string }) : {};
      if (record.url && record.msg?.endsWith('listening')) {
        clearTimeout(timer);
        resolve({ url: record.url, child, output });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${service} exited with ${code}:\n${output.join('\n')}`));
    });
  });
}

function check(condition: unknown, message: string, detail?: unknown): asserts condition {
  if (!condition)
    throw new Error(`smoke: ${message}${detail === undefined ? '' : `\n${JSON.stringify(detail, null, 2)}`}`);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`smoke: ${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const database = await createTestDatabase('smoke');
const serviceUrl = (name: string) => {
  const url = new URL(database.url);
  url.username = roleOf(name);
  url.password = randomBytes(12).toString('hex');
  return url.toString();
};
const serviceUrls = Object.fromEntries(SUBGRAPHS.map((n) => [n, serviceUrl(n)])) as Record<
  (typeof SUBGRAPHS)[number],
  string
>;
/**
 * Each copy ships its CycloneDX bill of materials, and it names every production dependency the copy
 * declares (a missing or stale SBOM is a build fault, caught here rather than by an auditor).
 */
function checkSbom(service: string): void {
  const dir = path.join(out, service);
  const bom = JSON.parse(readFileSync(path.join(dir, 'sbom.cdx.json'), 'utf8')) as {
    bomFormat: string;
    components: { name: string; group?: string }[];
  };
  if (bom.bomFormat !== 'CycloneDX') throw new Error(`${service}: sbom.cdx.json is not CycloneDX`);
  const listed = new Set(bom.components.map((c) => (c.group ? `${c.group}/${c.name}` : c.name)));
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const missing = Object.keys(manifest.dependencies ?? {}).filter((d) => !listed.has(d));
  if (missing.length > 0) throw new Error(`${service}: sbom.cdx.json leaves out ${missing.join(', ')}`);
}
for (const service of ['gateway', ...SUBGRAPHS, 'migrate', 'cli']) checkSbom(service);

const begun = Date.now();
try {
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const sharedSecret = randomBytes(32).toString('hex');
  await exec('migrate', [...startCommand('migrate'), '--create-roles'], {
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    ...Object.fromEntries(REGISTERED.map((entry) => [serviceDatabaseUrlVariable(entry), serviceUrls[entry.name]])),
  });
  const admin = { email: `admin-${run}@example.com`, password: randomBytes(12).toString('base64url') };
  await exec('users', ['dist/subgraphs/users/src/create-admin.js'], {
    NODE_ENV: 'production',
    DATABASE_URL: serviceUrls.users,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
  });
  const common = { REDIS_URL, EVENTS_PREFIX: prefix, SUBGRAPH_SHARED_SECRET: sharedSecret, DATABASE_POOL_MAX: '4' };
  // The token issuer first: the others verify tokens against its keys.
  const issuer = tokenIssuer();
  const users = await boot(issuer.name, {
    ...common,
    DATABASE_URL: serviceUrls[issuer.name],
    JWT_PRIVATE_KEY: signingKey,
  });
  const JWKS_URL = new URL('/.well-known/jwks.json', users.url).toString();
  const others = await Promise.all(
    REGISTERED.filter((entry) => entry !== issuer).map(
      async (entry) =>
        [entry, await boot(entry.name, { ...common, DATABASE_URL: serviceUrls[entry.name], JWKS_URL })] as const,
    ),
  );
  const gateway = await boot('gateway', {
    JWKS_URL,
    SUBGRAPH_SHARED_SECRET: sharedSecret,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    [urlVariable(issuer)]: users.url,
    ...Object.fromEntries(others.map(([entry, started]) => [urlVariable(entry), started.url])),
  });
  const ready = await fetch(new URL('/ready', gateway.url));
  check(ready.status === 200, 'gateway /ready', await ready.json());

  const login = await graphql(
    gateway.url,
    'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    {
      e: admin.email,
      p: admin.password,
    },
  );
  check(login.data?.login, 'sign in as the administrator', login);
  const auth = { authorization: `Bearer ${(login.data as { login: { accessToken: string } }).login.accessToken}` };
  const customer = await graphql(
    gateway.url,
    'mutation ($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }',
    {
      i: { name: 'Smoke Test Ltd', email: `smoke-${run}@example.com`, phone: '+44 20 7946 0000' },
    },
    auth,
  );
  check(customer.data?.createCustomer, 'createCustomer', customer);
  const product = await graphql(
    gateway.url,
    'mutation ($i: CreateProductInput!) { createProduct(input: $i) { id } }',
    {
      i: { sku: `SMOKE-${run}`, name: 'Smoke detector', unitPrice: '12.50' },
    },
    auth,
  );
  check(product.data?.createProduct, 'createProduct', product);
  const customerId = (customer.data as { createCustomer: { id: string } }).createCustomer.id;
  const productId = (product.data as { createProduct: { id: string } }).createProduct.id;
  const stock = await graphql(
    gateway.url,
    'mutation ($id: ID!) { receiveStock(productId: $id, quantity: 10) { onHand } }',
    { id: productId },
    auth,
  );
  check(stock.data?.receiveStock, 'receiveStock', stock);

  // Orders learns of the new customer and product from the event stream; retry until it has.
  const PLACE = `mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { id status } }`;
  const input = { customerId, items: [{ productId, quantity: 3 }], idempotencyKey: `smoke-${run}` };
  const placed = await waitFor('placeOrder accepted', async () => {
    const result = await graphql(gateway.url, PLACE, { i: input }, auth);
    return result.data?.placeOrder
      ? (result.data as { placeOrder: { id: string; status: string } }).placeOrder
      : undefined;
  });
  const ORDER = `query ($id: ID!) {
    order(id: $id) { status total customer { name } items { quantity product { sku name available } } }
  }`;
  const order = await waitFor('order confirmed', async () => {
    const result = await graphql(gateway.url, ORDER, { id: placed.id }, auth);
    check(!result.errors, 'cross-subgraph order query', result);
    const found = (result.data as { order: { status: string } }).order;
    return found.status === 'PENDING'
      ? undefined
      : (found as { status: string; customer: { name: string }; items: { product: { available: number } }[] });
  });
  check(order.status === 'CONFIRMED', 'order CONFIRMED', order);
  check(
    order.customer.name === 'Smoke Test Ltd' && order.items[0]!.product.available === 7,
    'order with customer and stock',
    order,
  );

  // The checker image (the CLI's build): every invariant holds once, then as metrics under --watch.
  const databases = Object.fromEntries(
    REGISTERED.map((entry) => [databaseUrlVariable(entry), serviceUrls[entry.name]]),
  );
  await exec('cli', [...startCommand('cli'), 'check'], { NODE_ENV: 'production', ...databases });
  const checker = spawn(
    process.execPath,
    [...startCommand('cli'), 'check', '--watch', '5', '--metrics-port', '0', '--metrics-host', '127.0.0.1'],
    { cwd: path.join(out, 'cli'), env: { PATH: process.env.PATH, NODE_ENV: 'production', ...databases } },
  );
  started.push({ name: 'checker', child: checker, output: [] });
  const metricsUrl = await new Promise<string>((resolve, reject) => {
    let url = '';
    createInterface({ input: checker.stdout }).on('line', (line) => {
      const record = line.startsWith('{') ? (JSON.parse(line) as { msg?: string; metricsUrl?: string }) : {};
      if (record.metricsUrl) url = record.metricsUrl;
      if (record.msg === 'invariants checked' && url) resolve(url);
    });
    checker.once('exit', (code) => reject(new Error(`the checker exited with ${code}`)));
  });
  const metrics = await (await fetch(metricsUrl)).text();
  check(/^stockgraph_invariant_check_success 1$/m.test(metrics), 'checker metrics: a complete check', metrics);

  for (const s of [...started].reverse()) s.child.kill('SIGTERM');
  const codes = await Promise.all(
    started.map((s) => new Promise((r) => (s.child.exitCode !== null ? r(s.child.exitCode) : s.child.once('exit', r)))),
  );
  const stops = Object.fromEntries(started.map((s, i) => [s.name, { code: codes[i], log: s.output.slice(-3) }]));
  check(
    codes.every((c) => c === 0),
    'every service exits 0 on SIGTERM',
    stops,
  );
  process.stdout.write(
    `smoke: built services answered sign-in, a three-subgraph query and placeOrder, and the checker found every invariant holding, in ${Date.now() - begun} ms\n`,
  );
} finally {
  for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await database.drop();
  const adminSql = postgres(TEST_SERVER_URL, { max: 1, onnotice: () => {} });
  for (const n of SUBGRAPHS) await adminSql.unsafe(`drop role if exists "${roleOf(n)}"`);
  await adminSql.end();
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 }))
    if (keys.length > 0) await redis.del(keys);
  await redis.quit();
}
