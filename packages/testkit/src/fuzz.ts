import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  Kind,
  parse,
  print,
  type DirectiveNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';
import { apiSchemaOf } from '@stockgraph/graphql-kit/api-schema';
import { ROOT } from './process.js';

/**
 * Property-based fuzzing of the gateway: operations and variables generated from the supergraph's API
 * schema (valid ones and broken ones), and malformed HTTP. Used by tests/fuzz-edge.test.ts (fixed seed,
 * short) and bench/fuzz.ts (long). Every answer must be data or a coded error with a fitting status:
 * never a 5xx for a client's mistake, a stack trace, SQL text, a crash or a hang.
 */

export function supergraphApiSchema(): GraphQLSchema {
  return apiSchemaOf(readFileSync(join(ROOT, 'schema/supergraph.graphql'), 'utf8'));
}

/** Known-awkward values, including the cases issue 8 found (findings 11 and 12). */
const NASTY_STRINGS = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  "'; drop table users; --",
  '%',
  '_',
  '\\',
  '"',
  '💥',
  'ǅ',
  '\uD800',
  'x'.repeat(5000),
];
const DECIMALS = [
  '0',
  '1',
  '12.34',
  '-1',
  '0.01',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '1.5e3',
  ' 1.00',
  '1,00',
  '',
  'abc',
  '99999999999999999999.99',
];
const DATETIMES = [
  '2026-01-01T00:00:00Z',
  '2025-06-15',
  'yesterday',
  '9999-99-99',
  '0000-01-01',
  '0001-01-01',
  '1970-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '',
];
const IDS = [
  '00000000-0000-7000-8000-000000000000',
  'ffffffff-ffff-7fff-bfff-ffffffffffff',
  '0190f7a0-0000-7000-8000-000000000000',
  'not-a-uuid',
  '\u0000',
  '',
];
const INTS = [0, 1, -1, 2, 10, 100, 1000, 2147483647, -2147483648, 2147483648, 1e10];

export interface FuzzData {
  /** Real ids seen in the stack's demo data, so some operations reach real rows. */
  ids: string[];
}

function nastyString(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...NASTY_STRINGS),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
  );
}

function scalarValue(name: string, data: FuzzData): fc.Arbitrary<unknown> {
  switch (name) {
    case 'Int':
      return fc.oneof(fc.constantFrom(...INTS), fc.integer({ min: -5, max: 60 }));
    case 'Float':
      return fc.oneof(fc.double({ noNaN: true }), fc.integer());
    case 'Boolean':
      return fc.boolean();
    case 'ID':
      return fc.oneof(
        fc.constantFrom(...IDS),
        fc.constantFrom(...(data.ids.length ? data.ids : IDS)),
        fc.uuid(),
        nastyString(),
      );
    case 'Decimal':
      return fc.oneof(fc.constantFrom(...DECIMALS), fc.double({ noNaN: true }).map(String));
    case 'DateTime':
      return fc.oneof(
        fc.constantFrom(...DATETIMES),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      );
    default:
      return nastyString();
  }
}

/** A value for an input type: usually of the right shape, sometimes not (null, wrong type, extra fields). */
export function inputValue(type: GraphQLInputType, data: FuzzData, depth = 0): fc.Arbitrary<unknown> {
  const wrong = fc.constantFrom<unknown>(null, 'str', 42, true, [], {}, { unknownField: 1 });
  const right = ((): fc.Arbitrary<unknown> => {
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner)) return fc.array(inputValue(inner.ofType, data, depth + 1), { maxLength: depth > 2 ? 1 : 4 });
    if (isEnumType(inner))
      return fc.oneof(fc.constantFrom(...inner.getValues().map((v) => v.name)), fc.constant('NOT_A_VALUE'));
    if (isScalarType(inner)) return scalarValue(inner.name, data);
    if (isInputObjectType(inner)) {
      if (depth > 3) return fc.constant({});
      const fields = Object.values(inner.getFields());
      return fc.record(Object.fromEntries(fields.map((f) => [f.name, inputValue(f.type, data, depth + 1)])), {
        requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name),
      });
    }
    return wrong;
  })();
  return fc.oneof({ weight: 9, arbitrary: right }, { weight: 1, arbitrary: wrong });
}

export interface GeneratedOperation {
  query: string;
  variables: Record<string, unknown>;
}

interface Variable {
  name: string;
  type: string;
  value: fc.Arbitrary<unknown>;
}

/** Fields a fuzzer must not call: they would end the fuzzer's own sessions and make the rest moot. */
const SKIPPED_FIELDS = new Set(['logout', 'changePassword', 'updateUser', 'refreshSession']);

function selection(type: GraphQLNamedType, data: FuzzData, variables: Variable[], depth: number): fc.Arbitrary<string> {
  if (isLeafType(type)) return fc.constant('');
  if (isUnionType(type)) return fc.constant('{ __typename }');
  const object = type as GraphQLObjectType;
  if (!isObjectType(object) && !isInterfaceType(object)) return fc.constant('{ __typename }');
  const fields = Object.values(object.getFields()).filter((f) => !SKIPPED_FIELDS.has(f.name));
  const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
  const usable = depth >= 3 ? leaves : fields;
  if (usable.length === 0) return fc.constant('{ __typename }');
  return fc
    .subarray(usable, { minLength: 1, maxLength: Math.min(4, usable.length) })
    .chain((chosen) => fc.tuple(...chosen.map((f) => fieldText(f, data, variables, depth))))
    .map((parts) => `{ ${parts.join(' ')} }`);
}

function argumentText(arg: GraphQLArgument, data: FuzzData, variables: Variable[]): string {
  const name = `v${variables.length}`;
  variables.push({ name, type: String(arg.type), value: inputValue(arg.type, data) });
  return `${arg.name}: $${name}`;
}

function fieldText(
  field: GraphQLField<unknown, unknown>,
  data: FuzzData,
  variables: Variable[],
  depth: number,
): fc.Arbitrary<string> {
  return fc.subarray(field.args.filter((a) => !isNonNullType(a.type))).chain((optional) => {
    const args = [...field.args.filter((a) => isNonNullType(a.type)), ...optional].map((a) =>
      argumentText(a, data, variables),
    );
    const head = args.length ? `${field.name}(${args.join(', ')})` : field.name;
    return selection(getNamedType(field.type), data, variables, depth + 1).map((sub) => `${head} ${sub}`.trim());
  });
}

/** A valid operation over the API schema, with generated variables (some of the wrong shape). */
export function validOperation(
  schema: GraphQLSchema,
  data: FuzzData,
  kinds: readonly ('query' | 'mutation' | 'subscription')[] = ['query', 'mutation'],
): fc.Arbitrary<GeneratedOperation> {
  const byKind = {
    query: schema.getQueryType(),
    mutation: schema.getMutationType(),
    subscription: schema.getSubscriptionType(),
  };
  const roots = kinds.map((kind) => byKind[kind]).filter((t): t is GraphQLObjectType => !!t);
  return fc.constantFrom(...roots).chain((root) => {
    const variables: Variable[] = [];
    return fc
      .subarray(
        Object.values(root.getFields()).filter((f) => !SKIPPED_FIELDS.has(f.name)),
        // A subscription has exactly one root field.
        { minLength: 1, maxLength: root === schema.getSubscriptionType() ? 1 : 2 },
      )
      .chain((fields) => fc.tuple(...fields.map((f) => fieldText(f, data, variables, 1))))
      .chain((parts) => {
        const declared = variables.map((v) => `$${v.name}: ${v.type}`).join(', ');
        const keyword =
          root === schema.getMutationType()
            ? 'mutation'
            : root === schema.getSubscriptionType()
              ? 'subscription'
              : 'query';
        const query = `${keyword} Fuzz${declared ? `(${declared})` : ''} { ${parts.join(' ')} }`;
        return fc
          .record(Object.fromEntries(variables.map((v) => [v.name, v.value])))
          .map((values) => ({ query, variables: values as Record<string, unknown> }));
      });
  });
}

export type Disguise = 'fragment' | 'inline' | 'alias' | 'include' | 'skip-false' | 'skip-true' | 'all';

const condition = (name: 'include' | 'skip', value: boolean): DirectiveNode => ({
  kind: Kind.DIRECTIVE,
  name: { kind: Kind.NAME, value: name },
  arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'if' }, value: { kind: Kind.BOOLEAN, value } }],
});

/**
 * The same operation with its root fields hidden from a naive walk of the selection (issue 28,
 * findings 1, 3 and 5): behind a named or inline fragment, under aliases, or carrying @include(if: true)
 * or @skip(if: false); and `skip-true`, which skips them (finding 1: a subscription whose one field is
 * skipped must be refused, not streamed unauthorized). Whatever the gateway decides for the plain operation (authorization, limits,
 * trusted documents, budgets) it must decide for these too; `all` stacks every disguise.
 */
export function disguise(op: GeneratedOperation, how: Disguise): GeneratedOperation {
  const document = parse(op.query);
  const operation = document.definitions[0] as OperationDefinitionNode;
  const rootType =
    operation.operation === 'query' ? 'Query' : operation.operation === 'mutation' ? 'Mutation' : 'Subscription';
  let selections: readonly SelectionNode[] = operation.selectionSet.selections;
  const fragments: FragmentDefinitionNode[] = [];
  const apply = (step: Exclude<Disguise, 'all'>) => {
    if (step === 'alias')
      selections = selections.map((s, i) =>
        s.kind === Kind.FIELD ? { ...s, alias: { kind: Kind.NAME, value: `a${i}_${s.name.value}` } } : s,
      );
    else if (step === 'include' || step === 'skip-false' || step === 'skip-true') {
      const directive = step === 'include' ? condition('include', true) : condition('skip', step === 'skip-true');
      selections = selections.map((s) => ({ ...s, directives: [...(s.directives ?? []), directive] }));
    } else if (step === 'inline')
      selections = [
        {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: rootType } },
          selectionSet: { kind: Kind.SELECTION_SET, selections },
        },
      ];
    else {
      const name = `Hidden${fragments.length}`;
      fragments.push({
        kind: Kind.FRAGMENT_DEFINITION,
        name: { kind: Kind.NAME, value: name },
        typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: rootType } },
        selectionSet: { kind: Kind.SELECTION_SET, selections },
      });
      selections = [{ kind: Kind.FRAGMENT_SPREAD, name: { kind: Kind.NAME, value: name } }];
    }
  };
  if (how === 'all') for (const step of ['alias', 'include', 'inline', 'fragment'] as const) apply(step);
  else apply(how);
  const disguised = { ...operation, selectionSet: { kind: Kind.SELECTION_SET as const, selections } };
  return { ...op, query: print({ ...document, definitions: [disguised, ...fragments] }) };
}

/** Disguises that keep an operation's meaning: the answer must be the plain operation's. */
export const DISGUISES: readonly Disguise[] = ['fragment', 'inline', 'alias', 'include', 'skip-false', 'all'];

/** Breaks an operation's text: cut, spliced, duplicated, renamed fields, junk. */
export function brokenOperation(schema: GraphQLSchema, data: FuzzData): fc.Arbitrary<GeneratedOperation> {
  return fc
    .tuple(
      validOperation(schema, data),
      fc.nat(),
      fc.constantFrom('cut', 'splice', 'rename', 'junk', 'twice', 'fragment-loop', 'deep'),
    )
    .map(([op, n, how]) => {
      const at = op.query.length ? n % op.query.length : 0;
      switch (how) {
        case 'cut':
          return { ...op, query: op.query.slice(0, at) };
        case 'splice':
          return { ...op, query: `${op.query.slice(0, at)}{}(:$!@${op.query.slice(at)}` };
        case 'rename':
          return { ...op, query: op.query.replace(/\{ (\w)/, '{ zz$1') };
        case 'junk':
          return { ...op, query: `${op.query} \u0000 ${'#'.repeat(n % 50)}` };
        case 'twice':
          return { ...op, query: `${op.query} ${op.query}` };
        case 'fragment-loop':
          return { query: 'query L { ...A } fragment A on Query { ...B } fragment B on Query { ...A }', variables: {} };
        default:
          return { query: `{ ${'me { '.repeat(40 + (n % 40))}id${' }'.repeat(40 + (n % 40))} }`, variables: {} };
      }
    });
}

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/graphql-response+json',
  'application/graphql',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/json; charset=nope',
  '',
  '\u00ff/\u00ff',
];

/** Malformed HTTP: odd methods, content types, encodings and bodies, with or without a good token. */
export function malformedHttp(token: string | undefined): fc.Arbitrary<RawRequest> {
  const bodyText = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.constantFrom(
      '{"query":',
      '{"query": 1}',
      '{"query": "{ __typename }", "variables": "x"}',
      '{"query": "{ __typename }", "variables": [1]}',
      '{"query": "{ __typename }", "extensions": "x"}',
      '{"query": "{ __typename }", "operationName": 5}',
      '{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": 5}}}',
      '{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "00"}}}',
      `{"query": "{ __typename }", "operationName": "${'n'.repeat(200_000)}"}`,
      `{"query": "${'{'.repeat(5000)}"}`,
      `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
      '{"query": "{ products(filter: {search: \\"a\\u0000b\\"}) { totalCount } }"}',
      'null',
      '[]',
      '[{"query": "{ __typename }"}]',
    ),
  );
  return fc
    .record({
      method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      contentType: fc.constantFrom(...CONTENT_TYPES),
      encoding: fc.constantFrom('', '', 'gzip', 'gzip-broken', 'deflate', 'br', 'identity', 'compress'),
      auth: fc.constantFrom('good', 'none', 'garbage', 'basic'),
      body: bodyText,
      query: fc.option(fc.string({ maxLength: 60 }), { nil: undefined }),
      extraHeader: fc.option(fc.constantFrom('apollo-require-preflight', 'x-forwarded-for', 'accept'), {
        nil: undefined,
      }),
    })
    .map((r) => {
      const headers: Record<string, string> = {};
      if (r.contentType) headers['content-type'] = r.contentType;
      let body = Buffer.from(r.body);
      if (r.encoding === 'gzip') body = gzipSync(body);
      if (r.encoding) headers['content-encoding'] = r.encoding === 'gzip-broken' ? 'gzip' : r.encoding;
      if (r.auth === 'good' && token) headers.authorization = `Bearer ${token}`;
      if (r.auth === 'garbage') headers.authorization = 'Bearer \u00ff.x.y';
      if (r.auth === 'basic') headers.authorization = 'Basic Zm9vOmJhcg==';
      if (r.extraHeader === 'apollo-require-preflight') headers['apollo-require-preflight'] = 'true';
      if (r.extraHeader === 'x-forwarded-for') headers['x-forwarded-for'] = '1.2.3.4, ::1, not an address, ;;';
      if (r.extraHeader === 'accept') headers.accept = 'text/html;q=0.1, application/nope';
      const path = r.query === undefined ? '/graphql' : `/graphql?query=${encodeURIComponent(r.query)}`;
      return { method: r.method, path, headers, body: r.method === 'GET' ? Buffer.alloc(0) : body };
    });
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Sends a request with a deadline; a request that does not finish in time is a hang. */
export function send(url: string, request: RawRequest, timeoutMs = 15_000): Promise<Answer> {
  const target = new URL(request.path, url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      {
        method: request.method,
        headers: { ...request.headers, 'content-length': String(request.body.length) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Bytes that are not HTTP at all after a request line, on a raw socket: the server must answer 4xx or close. */
export function sendRaw(url: string, bytes: Buffer, timeoutMs = 15_000): Promise<number | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw request: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve(status ? Number(status[1]) : null);
    });
    socket.end(Buffer.concat([Buffer.from('POST /graphql HTTP/1.1\r\nHost: x\r\n'), bytes]));
  });
}

export function postOperation(
  url: string,
  op: GeneratedOperation,
  token: string | undefined,
  extraHeaders: Record<string, string> = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extraHeaders };
  if (token) headers.authorization = `Bearer ${token}`;
  return send(url, { method: 'POST', path: '/graphql', headers, body: Buffer.from(JSON.stringify(op)) });
}

/** The error codes of a GraphQL JSON answer, sorted, each once (empty for data or a non-JSON body). */
export function errorCodes(answer: Answer): string[] {
  try {
    const body = JSON.parse(answer.text) as { errors?: { extensions?: { code?: string } }[] };
    return [...new Set((body.errors ?? []).map((e) => String(e.extensions?.code)))].sort();
  } catch {
    return [];
  }
}

const STACK = /\n\s+at [\w.<>]+ \(|\bat async\b|node_modules|stacktrace/;
const SQL =
  /syntax error at or near|\bviolates\b|\brelation "|\bselect\b[^"]{0,200}\bfrom\b|\binsert into\b|\bdelete from\b|\bupdate\b\s+"?\w+"?\s+set\b|postgres|drizzle/i;

/**
 * What is wrong with an answer, or undefined when it is acceptable: a status below 500, no stack trace
 * or SQL text, and for a GraphQL JSON body, every error coded and not INTERNAL_SERVER_ERROR.
 */
export function problemWith(answer: Answer): string | undefined {
  if (answer.status >= 500) return `HTTP ${answer.status}: ${answer.text.slice(0, 300)}`;
  if (STACK.test(answer.text)) return `stack trace in the answer: ${answer.text.slice(0, 300)}`;
  if (SQL.test(answer.text)) return `SQL text in the answer: ${answer.text.slice(0, 300)}`;
  if (!answer.contentType.includes('json'))
    return answer.status >= 400 ? undefined : `HTTP ${answer.status} without JSON`;
  let body: { data?: unknown; errors?: { extensions?: { code?: unknown } }[] };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return `unparsable JSON: ${answer.text.slice(0, 200)}`;
  }
  for (const error of body.errors ?? []) {
    const code = error.extensions?.code;
    if (typeof code !== 'string') return `error without a code: ${JSON.stringify(error).slice(0, 300)}`;
    if (code === 'INTERNAL_SERVER_ERROR') return `INTERNAL_SERVER_ERROR: ${JSON.stringify(error).slice(0, 300)}`;
  }
  if (body.data === undefined && (body.errors?.length ?? 0) > 0 && answer.status < 400)
    return `request error with HTTP ${answer.status}`;
  return undefined;
}
