import { BadUserInputError } from './errors.js';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** A validated page request: `after` is the decoded keyset position, or null for the first page. */
export interface Page {
  limit: number;
  after: string[] | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** Cursors are opaque to clients: base64url of the keyset values of the last row seen. */
export function encodeCursor(values: readonly string[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): string[] {
  const invalid = () => new BadUserInputError('after is not a valid cursor', 'after');
  if (cursor.length === 0 || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  // A NUL or an overlong value cannot be a key we handed out, and PostgreSQL text refuses NUL.
  const isKey = (v: unknown) => typeof v === 'string' && v.length <= 400 && !v.includes('\u0000');
  if (!Array.isArray(parsed) || parsed.length !== arity || !parsed.every(isKey)) throw invalid();
  return parsed as string[];
}

/**
 * Validates `first`/`after`. `validateKey` checks the decoded values (e.g. that an id is a UUID)
 * so a forged cursor is a BAD_USER_INPUT and never reaches SQL as garbage.
 */
export function toPage(args: PageArgs, arity: number, validateKey?: (values: string[]) => boolean): Page {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`first must be between 1 and ${MAX_PAGE_SIZE}`, 'first');
  }
  if (args.after == null) return { limit: first, after: null };
  const after = decodeCursor(args.after, arity);
  if (validateKey && !validateKey(after)) throw new BadUserInputError('after is not a valid cursor', 'after');
  return { limit: first, after };
}

/** Builds a connection from up to `limit + 1` rows: the extra row only tells that there is a next page. */
export function toConnection<T>(rows: readonly T[], page: Page, keyOf: (row: T) => readonly string[]): Connection<T> {
  const nodes = rows.slice(0, page.limit);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > page.limit,
      hasPreviousPage: page.after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
