import { GraphQLScalarType, Kind } from 'graphql';
import { BadUserInputError } from './errors.js';

const DECIMAL = /^-?\d{1,28}(\.\d{1,10})?$/;

/**
 * Money and other exact quantities, always carried as strings: a float would round prices
 * (0.1 + 0.2) and clients in every language can parse a decimal string losslessly.
 */
export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description: 'An exact decimal number serialised as a string, e.g. "19.90". Never a float.',
  serialize(value) {
    if (typeof value === 'string' && DECIMAL.test(value)) return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'bigint') return value.toString();
    throw new TypeError('Decimal cannot represent this value');
  },
  parseValue(value) {
    if (typeof value === 'string' && DECIMAL.test(value)) return value;
    throw new BadUserInputError('Decimal must be a string such as "19.90"');
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING && DECIMAL.test(ast.value)) return ast.value;
    throw new BadUserInputError('Decimal must be a string such as "19.90"');
  },
});

function toDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'string') {
    // Require an explicit date and, when a time is given, an offset: "2026-01-01T10:00" is ambiguous.
    if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) return null;
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

/** Inputs before year 1000 are mistakes (year 0 does not exist in PostgreSQL; years below 100 are misread). */
const EARLIEST_INPUT = Date.UTC(1000, 0, 1);
const DATE_TIME_INPUT = 'DateTime must be an ISO-8601 string from year 1000 to 9999, such as "2026-11-27T08:00:00Z"';

function inputDate(value: unknown): Date {
  const date = toDate(value);
  if (!date || date.getTime() < EARLIEST_INPUT || date.getUTCFullYear() > 9999)
    throw new BadUserInputError(DATE_TIME_INPUT);
  return date;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in time as an ISO-8601 string in UTC, e.g. "2026-11-27T08:46:51.000Z".',
  serialize(value) {
    const date = toDate(value);
    if (!date) throw new TypeError('DateTime cannot represent this value');
    return date.toISOString();
  },
  parseValue: inputDate,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new BadUserInputError(DATE_TIME_INPUT);
    return inputDate(ast.value);
  },
});
