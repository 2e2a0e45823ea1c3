import { Kind, type ConstValueNode, type DocumentNode } from 'graphql';

/**
 * The authorization rule of one field, read from the Federation directives on it:
 * `@authenticated`, `@requiresScopes(scopes: [[...]])` and `@policy(policies: [[...]])`.
 * Every directive present must pass; inside one, the outer list is OR and the inner list AND.
 * A field with none of them has no rule and is denied (default deny).
 */
export interface FieldRule {
  authenticated: boolean;
  scopes: string[][] | null;
  policies: string[][] | null;
}

/** Policies anyone may pass, signed in or not. */
export const PUBLIC_POLICY = 'public';

function stringMatrix(value: ConstValueNode | undefined): string[][] {
  if (!value || value.kind !== Kind.LIST) return [];
  return value.values.map((inner) =>
    inner.kind === Kind.LIST ? inner.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : [])) : [],
  );
}

/** `Type.field` → rule, for every field of every object type that declares one. */
export function readFieldRules(document: DocumentNode): Map<string, FieldRule> {
  const rules = new Map<string, FieldRule>();
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION
    ) {
      continue;
    }
    for (const field of definition.fields ?? []) {
      let rule: FieldRule | null = null;
      for (const directive of field.directives ?? []) {
        const name = directive.name.value;
        if (name !== 'authenticated' && name !== 'requiresScopes' && name !== 'policy') continue;
        rule ??= { authenticated: false, scopes: null, policies: null };
        const argument = directive.arguments?.[0]?.value;
        if (name === 'authenticated') rule.authenticated = true;
        if (name === 'requiresScopes') rule.scopes = stringMatrix(argument);
        if (name === 'policy') rule.policies = stringMatrix(argument);
      }
      if (rule) rules.set(`${definition.name.value}.${field.name.value}`, rule);
    }
  }
  return rules;
}

/**
 * The policies an identity alone cannot decide: every policy the rules name except `public`. Each is
 * implemented by the subgraph whose SDL names it (its `policies.ts`), which checks it with data; the
 * gateway, reading them from the supergraph, only requires a signed-in caller for them. So a new
 * `@policy` in a subgraph needs no gateway change.
 */
export function dataPolicies(rules: Iterable<FieldRule>): Set<string> {
  const names = new Set<string>();
  for (const rule of rules) for (const all of rule.policies ?? []) for (const name of all) names.add(name);
  names.delete(PUBLIC_POLICY);
  return names;
}

export type Decision = 'allow' | 'unauthenticated' | 'forbidden';

/**
 * Decides what can be decided from the caller's identity alone. Policies other than `public` need
 * data (who created an order, whose email it is); `dataPolicies` names those the owning service
 * checks later, so here they only require a signed-in caller. Any other policy denies: fail closed.
 */
export function decide(
  rule: FieldRule | undefined,
  identity: { scopes: string[] } | null,
  dataPolicies: ReadonlySet<string>,
): Decision {
  if (!rule) return identity ? 'forbidden' : 'unauthenticated';
  const isPublic = rule.policies?.some((all) => all.length > 0 && all.every((p) => p === PUBLIC_POLICY)) ?? false;
  if (isPublic && !rule.authenticated && !rule.scopes) return 'allow';
  if (!identity) return 'unauthenticated';
  if (rule.scopes && !rule.scopes.some((all) => all.every((s) => identity.scopes.includes(s)))) return 'forbidden';
  if (rule.policies && !isPublic && !rule.policies.some((all) => all.every((p) => dataPolicies.has(p))))
    return 'forbidden';
  return 'allow';
}
