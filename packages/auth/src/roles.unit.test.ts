import { describe, expect, it } from 'vitest';
import { atLeast, isRole, roleScope, ROLES, scopesFor } from './roles.js';

describe('roles', () => {
  it('gives each role its own scope and those of every role below it', () => {
    expect(scopesFor('VIEWER')).toEqual(['role:viewer']);
    expect(scopesFor('STAFF')).toEqual(['role:viewer', 'role:staff']);
    expect(scopesFor('ADMIN')).toEqual(['role:viewer', 'role:staff', 'role:manager', 'role:admin']);
  });

  it('orders roles from VIEWER to ADMIN', () => {
    for (const [i, role] of ROLES.entries()) {
      for (const [j, minimum] of ROLES.entries()) expect(atLeast(role, minimum), `${role} ≥ ${minimum}`).toBe(i >= j);
    }
  });

  it('recognises only the four role names, as written', () => {
    for (const role of ROLES) expect(isRole(role)).toBe(true);
    for (const value of ['admin', 'OWNER', '', null, 3]) expect(isRole(value)).toBe(false);
    expect(roleScope('MANAGER')).toBe('role:manager');
  });
});
