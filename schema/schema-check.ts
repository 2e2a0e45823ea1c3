import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Change, CriticalityLevel, diff, DiffRule } from '@graphql-inspector/core';
import type { GraphQLSchema } from 'graphql';
import { type Acknowledgement, ACKNOWLEDGEMENTS_FILE, matches, readAcknowledgements } from './acknowledgements.js';
import {
  apiSchemaOf,
  isFederationMachinery,
  ownDirectives,
  subgraphSchemaOf,
} from '@stockgraph/graphql-kit/api-schema';
import { compose, type CompositionProblem, readSources } from './composition.js';
import { readAtCommit, resolveCommit } from './git.js';
import {
  affects,
  type ClientOperation,
  loadOperations,
  type OperationProblem,
  operationUsage,
  validateOperation,
} from './operations.js';
import { subgraphs as subgraphList } from './subgraphs.js';
import { type ClientUsage, openUsageLookup, type UsageLookup, usageTargets, type UsageTargets } from './usage-check.js';

export const SUPERGRAPH_FILE = 'schema/supergraph.graphql';
export const OPERATIONS_DIR = 'schema/operations';

export type Level = 'breaking' | 'dangerous' | 'safe';

export interface OperationRef {
  name: string;
  file: string;
}

export interface SchemaChange {
  /** `supergraph` (the API clients see) or the subgraph's name. */
  schema: string;
  level: Level;
  type: string;
  path?: string;
  message: string;
  /** Why inspector rates it so, for breaking and dangerous changes. */
  reason?: string;
  /** Client operations that use what changed. */
  operations: OperationRef[];
  /** The reviewed reason, when a breaking change is acknowledged. */
  acknowledged?: string;
  /**
   * With --usage, on a breaking change of the API: the client versions that used what it changes
   * within the window, busiest first. Empty: nobody did, and it passes without acknowledgement.
   * Absent when usage cannot tell (a schema-level change) or was not asked.
   */
  usage?: ClientUsage[];
}

export interface OperationResult extends OperationRef {
  errors: OperationProblem[];
}

export interface SchemaCheckReport {
  ok: boolean;
  base: { ref: string; commit: string };
  composition: { ok: boolean; errors: CompositionProblem[]; hints: CompositionProblem[] };
  /** Whether the working tree's supergraph file is what composition produces now. */
  supergraphFile: 'current' | 'stale';
  subgraphs: { name: string; path: string; status: 'added' | 'changed' | 'unchanged' }[];
  changes: SchemaChange[];
  operations: OperationResult[];
  /** Problems with the operation files themselves (syntax, duplicate or missing names). */
  operationFileProblems: (OperationProblem & { file: string })[];
  allowBreaking: boolean;
  /** Acknowledgement entries that match no breaking change: released already, or mistyped. */
  unusedAcknowledgements: Acknowledgement[];
  /** One line per reason the check fails; empty when it passes. */
  failures: string[];
  /** With --usage: where real traffic was read (password hidden), over how many days, since when it is kept. */
  usage?: { database: string; days: number; recordedSince: string };
}

export interface SchemaCheckOptions {
  root: string;
  base?: string;
  allowBreaking?: boolean;
  /** Judge breaking changes of the API by the usage the gateway recorded in this database. */
  usage?: { url: string; days: number };
}

const LEVELS: Record<CriticalityLevel, Level> = {
  [CriticalityLevel.Breaking]: 'breaking',
  [CriticalityLevel.Dangerous]: 'dangerous',
  [CriticalityLevel.NonBreaking]: 'safe',
};

async function classify(
  schema: string,
  before: GraphQLSchema,
  after: GraphQLSchema,
  usages: { operation: OperationRef; usage: Set<string> }[],
  keep: (change: Change) => boolean = () => true,
  targets?: Map<SchemaChange, UsageTargets>,
): Promise<SchemaChange[]> {
  // simplifyChanges folds "type added" and the additions inside it into one line.
  const changes = await diff(before, after, [DiffRule.simplifyChanges]);
  return changes.filter(keep).map((change) => {
    const level = LEVELS[change.criticality.level];
    const classified: SchemaChange = {
      schema,
      level,
      type: change.type,
      path: change.path,
      message: change.message,
      ...(level !== 'safe' && change.criticality.reason ? { reason: change.criticality.reason } : {}),
      operations: usages.filter(({ usage }) => affects(usage, change)).map(({ operation }) => operation),
    };
    const target = level === 'breaking' && targets ? usageTargets(change) : undefined;
    if (target) targets!.set(classified, target);
    return classified;
  });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The busiest few client versions of a change, for a one-line failure. */
function clientList(usage: ClientUsage[], shown = 3): string {
  const listed = usage
    .slice(0, shown)
    .map((u) => `${u.client} ${u.version || '(no version)'}: ${plural(u.count, 'operation')}, last seen ${u.lastSeen}`);
  return usage.length > shown ? `${listed.join('; ')}; and ${usage.length - shown} more` : listed.join('; ');
}

/**
 * Composes the working tree's subgraphs and compares the result with what is committed at `base`:
 * the supergraph's API schema and each subgraph's SDL, classified by @graphql-inspector/core, plus
 * every client operation validated against the new API schema. With `usage`, breaking changes of the
 * API are also judged by what clients used, as the gateway recorded it.
 */
export async function checkSchema(options: SchemaCheckOptions): Promise<SchemaCheckReport> {
  const ref = options.base ?? 'HEAD';
  const commit = resolveCommit(options.root, ref);
  const acknowledgements = readAcknowledgements(join(options.root, ACKNOWLEDGEMENTS_FILE));
  // Connected before the work: a store it cannot read is refused at once, not after composing.
  const usage = options.usage && (await openUsageLookup(options.usage.url, options.usage.days));
  try {
    return await check(options, { ref, commit }, acknowledgements, usage);
  } finally {
    await usage?.close();
  }
}

async function check(
  options: SchemaCheckOptions,
  { ref, commit }: { ref: string; commit: string },
  acknowledgements: Acknowledgement[],
  usage: UsageLookup | undefined,
): Promise<SchemaCheckReport> {
  const { root } = options;
  const sources = readSources(root, subgraphList);
  const composition = compose(sources);
  const loaded = loadOperations(root, OPERATIONS_DIR);

  const report: SchemaCheckReport = {
    ok: false,
    base: { ref, commit },
    composition: { ok: composition.ok, errors: composition.ok ? [] : composition.errors, hints: composition.hints },
    supergraphFile: 'stale',
    subgraphs: [],
    changes: [],
    operations: [],
    operationFileProblems: loaded.problems,
    allowBreaking: options.allowBreaking ?? false,
    unusedAcknowledgements: [],
    failures: [],
  };

  const before = readAtCommit(root, commit, SUPERGRAPH_FILE);
  const beforeApi = before === undefined ? undefined : apiSchemaOf(before);
  // Only the API's changes are judged by usage: clients never see a subgraph's own schema.
  const targets = new Map<SchemaChange, UsageTargets>();
  const afterApi = composition.ok ? apiSchemaOf(composition.supergraphSdl) : undefined;
  const usageIn = (schemas: (GraphQLSchema | undefined)[], operation: ClientOperation) => {
    const usage = new Set<string>();
    for (const schema of schemas)
      if (schema) for (const coordinate of operationUsage(schema, operation)) usage.add(coordinate);
    return usage;
  };
  const usages = loaded.operations.map((operation) => ({
    operation: { name: operation.name, file: operation.file },
    usage: usageIn([beforeApi, afterApi], operation),
  }));

  if (composition.ok) {
    let committed = '';
    try {
      committed = readFileSync(join(root, SUPERGRAPH_FILE), 'utf8');
    } catch {
      // Missing counts as stale.
    }
    report.supergraphFile = committed === `${composition.supergraphSdl.trimEnd()}\n` ? 'current' : 'stale';
    if (beforeApi && afterApi)
      report.changes.push(...(await classify('supergraph', beforeApi, afterApi, usages, undefined, targets)));
    report.operations = loaded.operations.map((operation) => ({
      name: operation.name,
      file: operation.file,
      errors: validateOperation(afterApi!, operation),
    }));
  }

  for (const source of sources) {
    const path = source.path!;
    const old = readAtCommit(root, commit, path);
    if (old === undefined) {
      report.subgraphs.push({ name: source.name, path, status: 'added' });
      continue;
    }
    if (old === source.typeDefs) {
      report.subgraphs.push({ name: source.name, path, status: 'unchanged' });
      continue;
    }
    report.subgraphs.push({ name: source.name, path, status: 'changed' });
    let schemas: [GraphQLSchema, GraphQLSchema];
    try {
      schemas = [subgraphSchemaOf(source.name, old), subgraphSchemaOf(source.name, source.typeDefs)];
    } catch {
      // An SDL that is not a valid subgraph is a composition error already, reported with its place.
      continue;
    }
    const own = new Set([...ownDirectives(old), ...ownDirectives(source.typeDefs)]);
    report.changes.push(...(await classify(source.name, ...schemas, usages, (c) => !isFederationMachinery(c, own))));
  }

  const used = new Set<Acknowledgement>();
  for (const change of report.changes) {
    if (change.level !== 'breaking') continue;
    const entry = acknowledgements.find((a) => matches(a, change));
    if (entry) {
      change.acknowledged = entry.reason;
      used.add(entry);
    }
  }
  report.unusedAcknowledgements = acknowledgements.filter((a) => !used.has(a));

  if (usage) {
    const found = await usage.lookUp([...targets.values()]);
    [...targets.keys()].forEach((change, i) => (change.usage = found[i]));
    report.usage = { database: usage.database, days: usage.days, recordedSince: usage.recordedSince };
  }
  // A break no client used within the window needs no acknowledgement, nor does the same removal in
  // the subgraph that owned the field.
  const unusedPaths = new Set(report.changes.filter((c) => c.usage?.length === 0).map((c) => c.path));

  const failures = report.failures;
  if (!composition.ok) failures.push(`composition failed with ${plural(report.composition.errors.length, 'error')}`);
  // A field removed from a subgraph is usually removed from the supergraph too: one decision, counted once.
  const unacknowledged = [
    ...new Set(
      report.changes
        .filter((c) => c.level === 'breaking' && !c.acknowledged && !unusedPaths.has(c.path))
        .map((c) => c.path ?? c.type),
    ),
  ];
  if (unacknowledged.length > 0 && !report.allowBreaking) {
    failures.push(
      `${plural(unacknowledged.length, 'breaking change')} not acknowledged in ${ACKNOWLEDGEMENTS_FILE}: ${unacknowledged.join(', ')}`,
    );
  }
  // Like an operation in schema/operations that stops validating, traffic from a live client outweighs
  // an acknowledgement and --allow-breaking: its reason ("no client reads it") is what traffic disproves.
  const usedByClients = report.changes.filter((c) => c.usage && c.usage.length > 0);
  if (usedByClients.length > 0)
    failures.push(
      `${plural(usedByClients.length, 'breaking change')} used by clients in the last ${plural(report.usage!.days, 'day')}: ${usedByClients.map((c) => `${c.path} (${clientList(c.usage!)})`).join(', ')}`,
    );
  const invalid = report.operations.filter((o) => o.errors.length > 0);
  if (invalid.length > 0)
    failures.push(
      `${plural(invalid.length, 'client operation')} no longer validate${invalid.length === 1 ? 's' : ''} against the new supergraph`,
    );
  if (loaded.problems.length > 0) failures.push(`${plural(loaded.problems.length, 'problem')} in ${OPERATIONS_DIR}`);
  report.ok = failures.length === 0;
  return report;
}
