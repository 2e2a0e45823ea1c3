import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { type ASTNode, type DocumentNode, type GraphQLError, parse, Source } from 'graphql';

export interface SubgraphSource {
  name: string;
  url: string;
  /** SDL text. */
  typeDefs: string;
  /** Where the SDL lives, relative to the repository root, for messages. */
  path?: string;
}

export interface ProblemLocation {
  subgraph: string;
  /** The SDL file, when known. */
  path?: string;
  line: number;
  column: number;
  /** Schema coordinate at that place: `Type`, `Type.field` or `Type.field(argument:)`. */
  coordinate?: string;
}

export interface CompositionProblem {
  code: string;
  message: string;
  /** Each place the problem points at, when known. */
  locations: ProblemLocation[];
}

export type CompositionResult =
  | { ok: true; supergraphSdl: string; hints: CompositionProblem[] }
  | { ok: false; errors: CompositionProblem[]; hints: CompositionProblem[] };

type Located = {
  loc?: { start: number; end: number; startToken?: { line: number; column: number }; source?: { name?: string } };
};

/**
 * The innermost named definition of `document` around `offset`: composition reports a node, and a
 * subgraph team wants to read "Product.sku", not only a line number.
 */
export function coordinateAt(document: DocumentNode, offset: number): string | undefined {
  const within = (node: Located) => node.loc !== undefined && node.loc.start <= offset && offset < node.loc.end;
  for (const definition of document.definitions) {
    if (!within(definition as Located) || !('name' in definition) || !definition.name) continue;
    const type = definition.name.value;
    const members = [
      ...('fields' in definition ? (definition.fields ?? []) : []),
      ...('values' in definition ? (definition.values ?? []) : []),
      ...('arguments' in definition ? (definition.arguments ?? []) : []),
    ] as readonly (ASTNode & {
      name: { value: string };
      arguments?: readonly (ASTNode & { name: { value: string } })[];
    })[];
    const member = members.find((m) => within(m as Located));
    if (!member) return definition.kind === 'DirectiveDefinition' ? `@${type}` : type;
    const argument = member.arguments?.find((a) => within(a as Located));
    if (argument) return `${type}.${member.name.value}(${argument.name.value}:)`;
    return definition.kind === 'DirectiveDefinition'
      ? `@${type}(${member.name.value}:)`
      : `${type}.${member.name.value}`;
  }
  return undefined;
}

function describe(
  problem: { message: string; nodes?: readonly unknown[] | undefined; extensions?: Record<string, unknown> },
  documents: Map<string, { document: DocumentNode; path?: string }>,
  code?: string,
): CompositionProblem {
  const locations = (problem.nodes ?? []).flatMap((node): ProblemLocation[] => {
    const n = node as Located & { subgraph?: string };
    if (!n.loc?.startToken) return [];
    const subgraph = n.subgraph ?? n.loc.source?.name ?? '?';
    const parsed = documents.get(subgraph);
    const coordinate = parsed ? coordinateAt(parsed.document, n.loc.start) : undefined;
    return [{ subgraph, path: parsed?.path, line: n.loc.startToken.line, column: n.loc.startToken.column, coordinate }];
  });
  return { code: code ?? String(problem.extensions?.code ?? 'COMPOSITION_ERROR'), message: problem.message, locations };
}

/** Composes subgraph SDLs into a Federation 2 supergraph; errors carry the subgraph, position and coordinate they concern. */
export function compose(sources: SubgraphSource[]): CompositionResult {
  const services = [];
  const documents = new Map<string, { document: DocumentNode; path?: string }>();
  const parseErrors: CompositionProblem[] = [];
  for (const source of sources) {
    try {
      // Naming the Source after the subgraph makes every node composition reports say where it is from.
      const typeDefs = parse(new Source(source.typeDefs, source.name), { noLocation: false });
      documents.set(source.name, { document: typeDefs, path: source.path });
      services.push({ name: source.name, url: source.url, typeDefs });
    } catch (error) {
      const e = error as GraphQLError;
      const at = e.locations?.[0];
      parseErrors.push({
        code: 'INVALID_GRAPHQL',
        message: `[${source.name}] ${e.message}`,
        locations: at ? [{ subgraph: source.name, path: source.path, line: at.line, column: at.column }] : [],
      });
    }
  }
  if (parseErrors.length > 0) return { ok: false, errors: parseErrors, hints: [] };
  const result = composeServices(services);
  const hints = (result.hints ?? []).map((h) =>
    describe({ message: h.message, nodes: h.nodes }, documents, h.definition.code),
  );
  if (result.errors) return { ok: false, errors: result.errors.map((e) => describe(e, documents)), hints };
  return { ok: true, supergraphSdl: result.supergraphSdl, hints };
}

export function readSources(
  root: string,
  list: readonly { name: string; sdl: string; url: string }[],
): SubgraphSource[] {
  return list.map((s) => ({
    name: s.name,
    url: s.url,
    path: s.sdl,
    typeDefs: readFileSync(resolve(root, s.sdl), 'utf8'),
  }));
}

/** `subgraphs/orders/src/schema.graphql:106:3 (orders, Product.sku)`: clickable in a terminal, readable in a log. */
export function formatLocation(location: ProblemLocation): string {
  const where = `${location.path ?? location.subgraph}:${location.line}:${location.column}`;
  const what = [location.path ? location.subgraph : undefined, location.coordinate].filter(Boolean).join(', ');
  return what ? `${where} (${what})` : where;
}

export function formatProblems(title: string, problems: CompositionProblem[], mark = '✖'): string {
  if (problems.length === 0) return '';
  const lines = problems.map(
    (p) =>
      `  ${mark} ${p.code}: ${p.message}${p.locations.length ? `\n      at ${p.locations.map(formatLocation).join('\n         ')}` : ''}`,
  );
  return `${title} (${problems.length}):\n${lines.join('\n')}\n`;
}
