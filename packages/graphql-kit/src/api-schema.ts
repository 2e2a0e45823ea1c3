import { buildSubgraph, printSchema, Supergraph } from '@apollo/federation-internals';
import { buildSchema, type GraphQLSchema, Kind, parse } from 'graphql';

// federation-internals requires graphql's CommonJS build while vitest loads the ES module one, and
// graphql-js refuses schema objects from "another realm": hand schemas over as SDL text instead.

/**
 * The schema clients see: the supergraph without its join/link machinery. `supportedFeatures: null`
 * because a supergraph carrying `@authenticated`/`@requiresScopes` (`for: SECURITY`) is refused by
 * default, and the API schema does not depend on who enforces those rules.
 */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return buildSchema(printSchema(Supergraph.build(supergraphSdl, { supportedFeatures: null }).apiSchema()));
}

/** A subgraph's schema as the gateway sees it: its SDL plus the federation definitions it links. */
export function subgraphSchemaOf(name: string, sdl: string): GraphQLSchema {
  return buildSchema(printSchema(buildSubgraph(name, `http://${name}`, sdl).schema));
}

const MACHINERY_TYPES = /^(_Any|_Service|_Entity|_FieldSet|FieldSet|(federation|link|join)__\w+)$/;

/** Directives a subgraph's SDL defines itself; every other directive definition comes from federation. */
export function ownDirectives(sdl: string): Set<string> {
  return new Set(parse(sdl).definitions.flatMap((d) => (d.kind === Kind.DIRECTIVE_DEFINITION ? [d.name.value] : [])));
}

/**
 * Whether a change in a subgraph diff is federation plumbing rather than the subgraph's contract:
 * switching `@link` imports renames `@federation__authenticated` to `@authenticated`, which an
 * inspector rightly calls a removed directive but no client or gateway ever notices.
 */
export function isFederationMachinery(change: { type: string; path?: string }, own: Set<string>): boolean {
  const path = change.path ?? '';
  if (path.startsWith('.@link') || path.startsWith('@link')) return true;
  if (MACHINERY_TYPES.test(path.split('.')[0] ?? '')) return true;
  if (change.type.startsWith('DIRECTIVE_') && !change.type.startsWith('DIRECTIVE_USAGE_')) {
    const directive = path.replace(/^@/, '').split('.')[0] ?? '';
    return !own.has(directive);
  }
  return false;
}
