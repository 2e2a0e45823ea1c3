/** Roles from least to most privileged; each role holds the scopes of every role below it. */
export const ROLES = ['VIEWER', 'STAFF', 'MANAGER', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The scope a schema's `@requiresScopes` names for a role, e.g. "role:manager". */
export function roleScope(role: Role): string {
  return `role:${role.toLowerCase()}`;
}

export function scopesFor(role: Role): string[] {
  return ROLES.slice(0, ROLES.indexOf(role) + 1).map(roleScope);
}

export function atLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

/** Who is calling, as proven by a verified access token. */
export interface Identity {
  userId: string;
  role: Role;
  scopes: string[];
  sessionId: string;
}
