/**
 * Who may read a school's occupancy, and in which shape (docs/api.md, "Roles and purposes: who sees
 * what"): the one check behind the HTTP route and the in-process source the embedded bridge reads
 * (src/bridge/in-process-sortie.ts), so the two cannot drift apart.
 */
import { canAccessUai, hasRole, type Principal, type Role } from '../../auth/principal.js';
import { type ResponseShape, responseShapeOf } from './response-shape.js';

/** The roles that may read occupancy (admin passes every role check). */
export const OCCUPANCY_ROLES: readonly Role[] = ['consumer', 'manager', 'auditor'];

export type OccupancyAccess =
  | { allowed: true; shape: ResponseShape }
  /** `role`: the caller's role never reads occupancy (403); `uai`: outside its schools (404). */
  | { allowed: false; reason: 'role' | 'uai' };

export function occupancyAccess(principal: Principal, uai: string): OccupancyAccess {
  if (!hasRole(principal, ...OCCUPANCY_ROLES)) return { allowed: false, reason: 'role' };
  // Outside its schools, a school is the same "not found" as one that does not exist.
  if (!canAccessUai(principal, uai)) return { allowed: false, reason: 'uai' };
  return { allowed: true, shape: responseShapeOf(principal) };
}
