/**
 * Who is calling, once authenticated: a client's role, its purpose ("finalité", consumers only)
 * and the UAIs it may see (docs/api.md, "Roles and purposes: who sees what").
 */
import { normaliseUai } from '../domain/uai.js';

export const ROLES = ['editor', 'consumer', 'manager', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** `ent` may see the full timetable; the energy purpose only rooms and time intervals. */
export const PURPOSES = ['ent', 'sobriete-energetique'] as const;
export type Purpose = (typeof PURPOSES)[number];

export interface Principal {
  clientId: string;
  role: Role;
  /** Set for, and only for, consumers. */
  purpose?: Purpose;
  uais: ReadonlySet<string> | 'all';
}

export function canAccessUai(principal: Principal, uai: string): boolean {
  return principal.uais === 'all' || principal.uais.has(normaliseUai(uai));
}

/** `admin` may do everything, so it passes every role check. */
export function hasRole(principal: Principal, ...roles: readonly Role[]): boolean {
  return principal.role === 'admin' || roles.includes(principal.role);
}
