import { context, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { inSpan, recordFailure, tracer } from '@stockgraph/telemetry';
import type { Sql } from 'postgres';

/** Longest statement text kept on a span; drizzle's multi-row inserts can run long. */
const MAX_STATEMENT = 4096;

const OPERATION = /^\s*(\w+)/;
const TARGET = /\b(?:from|into|update|join)\s+((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?)/i;

const WRITE = /\b(insert\s+into|update|delete\s+from)\s+((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?)/i;

/**
 * OpenTelemetry's database span name: `{operation} {table}` (e.g. `INSERT orders.order_items`). A
 * statement of common table expressions is named after its first write (placing an order is one
 * statement, `INSERT orders.idempotency_keys`, whose CTEs go on to write the order, its lines and its
 * events); one that writes nothing is `WITH`.
 */
export function statementSpanName(statement: string): string {
  const operation = OPERATION.exec(statement)?.[1]?.toUpperCase() ?? 'SQL';
  if (operation === 'WITH') {
    const write = WRITE.exec(statement);
    return write ? `${write[1]!.split(/\s+/)[0]!.toUpperCase()} ${write[2]!.replaceAll('"', '')}` : operation;
  }
  const target = TARGET.exec(statement)?.[1]?.replaceAll('"', '');
  return target && operation !== 'BEGIN' ? `${operation} ${target}` : operation;
}

function inRecordingSpan(): boolean {
  return trace.getSpan(context.active())?.isRecording() ?? false;
}

/**
 * A span for every statement sent through this client, at the one place drizzle hands each to
 * postgres.js (`unsafe`, on the pool and inside transactions and savepoints). The statement text is
 * recorded, never its parameters: they are customers' data. Statements run outside a recording span
 * (the relay's polling, housekeeping) are not traced: each would be a trace of its own.
 */
export function traceStatements(client: Sql, connection: Attributes): Sql {
  const base: Attributes = { 'db.system': 'postgresql', 'db.system.name': 'postgresql', ...connection };
  const wrap = (sql: Sql): Sql =>
    new Proxy(sql, {
      get(target, property, receiver) {
        if (property === 'unsafe') {
          return (statement: string, ...rest: unknown[]) => {
            const query = (target.unsafe as (...args: unknown[]) => Promise<unknown>)(statement, ...rest);
            if (inRecordingSpan()) observe(query, statement);
            return query;
          };
        }
        if (property === 'begin' || property === 'savepoint') {
          return (...args: unknown[]) => {
            const work = args.pop() as (tx: Sql) => unknown;
            const run = () =>
              (Reflect.get(target, property, receiver) as (...a: unknown[]) => Promise<unknown>)(...args, (tx: Sql) =>
                work(wrap(tx)),
              );
            if (!inRecordingSpan()) return run();
            return inSpan(property === 'begin' ? 'transaction' : 'savepoint', { attributes: base }, run);
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    });

  /** Ends the statement's span when postgres.js settles it, without triggering its execution. */
  const observe = (query: Promise<unknown>, statement: string) => {
    const text = statement.length > MAX_STATEMENT ? `${statement.slice(0, MAX_STATEMENT)}…` : statement;
    const span = tracer.startSpan(statementSpanName(statement), {
      kind: SpanKind.CLIENT,
      attributes: {
        ...base,
        'db.query.text': text,
        'db.statement': text,
        'db.operation.name': OPERATION.exec(statement)?.[1]?.toUpperCase(),
      },
    });
    // The native `then`: postgres.js's own would start the query; this only watches it settle.
    void Promise.prototype.then.call(
      query,
      (result: unknown) => {
        const count = (result as { count?: unknown } | undefined)?.count;
        if (typeof count === 'number') span.setAttribute('db.response.returned_rows', count);
        span.end();
      },
      (error: unknown) => {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string') span.setAttribute('db.response.status_code', code);
        recordFailure(span, error);
        span.end();
      },
    );
  };
  return wrap(client);
}
