import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { GraphQLError, parse } from 'graphql';

export interface SubgraphSource {
  name: string;
  url: string;
  /** SDL text. */
  typeDefs: string;
}

export interface CompositionProblem {
  code: string;
  message: string;
  /** "subgraph:line:column" for each place the problem points at, when known. */
  locations: string[];
}

export type CompositionResult =
  | { ok: true; supergraphSdl: string; hints: CompositionProblem[] }
  | { ok: false; errors: CompositionProblem[]; hints: CompositionProblem[] };

function describe(problem: { message: string; nodes?: readonly unknown[] | undefined; extensions?: Record<string, unknown> }, code?: string): CompositionProblem {
  const locations = (problem.nodes ?? []).flatMap((node) => {
    const n = node as { loc?: { source?: { name?: string }; startToken?: { line: number; column: number } }; subgraph?: string };
    if (!n.loc?.startToken) return [];
    return [`${n.subgraph ?? n.loc.source?.name ?? '?'}:${n.loc.startToken.line}:${n.loc.startToken.column}`];
  });
  return { code: code ?? String(problem.extensions?.code ?? 'COMPOSITION_ERROR'), message: problem.message, locations };
}

/** Composes subgraph SDLs into a Federation 2 supergraph; errors carry the subgraph and position they concern. */
export function compose(sources: SubgraphSource[]): CompositionResult {
  const services = [];
  const parseErrors: CompositionProblem[] = [];
  for (const source of sources) {
    try {
      services.push({ name: source.name, url: source.url, typeDefs: parse(source.typeDefs, { noLocation: false }) });
    } catch (error) {
      const e = error as GraphQLError;
      const at = e.locations?.[0];
      parseErrors.push({ code: 'INVALID_GRAPHQL', message: `[${source.name}] ${e.message}`, locations: at ? [`${source.name}:${at.line}:${at.column}`] : [] });
    }
  }
  if (parseErrors.length > 0) return { ok: false, errors: parseErrors, hints: [] };
  const result = composeServices(services);
  const hints = (result.hints ?? []).map((h) => describe({ message: h.message, nodes: h.nodes }, h.definition.code));
  if (result.errors) return { ok: false, errors: result.errors.map((e) => describe(e)), hints };
  return { ok: true, supergraphSdl: result.supergraphSdl, hints };
}

export function readSources(root: string, list: readonly { name: string; sdl: string; url: string }[]): SubgraphSource[] {
  return list.map((s) => ({ name: s.name, url: s.url, typeDefs: readFileSync(resolve(root, s.sdl), 'utf8') }));
}

export function formatProblems(title: string, problems: CompositionProblem[], mark = '✖'): string {
  if (problems.length === 0) return '';
  const lines = problems.map((p) => `  ${mark} ${p.code}: ${p.message}${p.locations.length ? `\n      at ${p.locations.join(', ')}` : ''}`);
  return `${title} (${problems.length}):\n${lines.join('\n')}\n`;
}
