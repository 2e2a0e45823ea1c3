import { BREAK, Kind, visit, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Denial } from './authorization.plugin.js';

interface Decision {
  denied: Denial[];
  unauthenticated: boolean;
}

/** Whether a `@skip`/`@include` of the document reads a variable: then the decision depends on the variables. */
function conditionsReadVariables(document: DocumentNode): boolean {
  let reads = false;
  visit(document, {
    Directive(node) {
      if (
        (node.name.value === 'skip' || node.name.value === 'include') &&
        node.arguments?.some((a) => a.value.kind === Kind.VARIABLE)
      ) {
        reads = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return reads;
}

/**
 * Authorization decisions per operation document and caller scopes. A decision depends on the fields
 * the operation selects, the caller's scopes and the rules; Apollo hands the same parsed document to
 * every request with the same text, so the document object is the key (held weakly: it goes when
 * Apollo's document cache drops it). Documents whose @skip/@include read variables are decided per
 * request, and `clear()` runs whenever the rules change.
 */
export function authorizationCache(onLookup: (hit: boolean) => void = () => {}) {
  let byDocument = new WeakMap<DocumentNode, { variableConditions: boolean; decisions: Map<string, Decision> }>();
  return {
    clear: () => {
      byDocument = new WeakMap();
    },
    decide(
      document: DocumentNode,
      operation: OperationDefinitionNode,
      scopes: readonly string[] | null,
      compute: () => Decision,
    ): Decision {
      let entry = byDocument.get(document);
      if (!entry) {
        entry = { variableConditions: conditionsReadVariables(document), decisions: new Map() };
        byDocument.set(document, entry);
      }
      if (entry.variableConditions) {
        onLookup(false);
        return compute();
      }
      const key = `${operation.name?.value ?? ''}\n${scopes ? scopes.join(' ') : '(anonymous)'}`;
      let decision = entry.decisions.get(key);
      onLookup(decision !== undefined);
      if (!decision) {
        decision = compute();
        // A document holds a few operations and there are four roles: this stays small.
        if (entry.decisions.size < 64) entry.decisions.set(key, decision);
      }
      return decision;
    },
  };
}
