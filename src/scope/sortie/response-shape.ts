/**
 * Which fields a caller receives from SORTIE (docs/api.md, "Roles and purposes: who sees what"): the energy
 * purpose and auditors get rooms and intervals only; purpose `ent`, managers and the operator get
 * the lesson ids too. Decided once from the principal, never from a request parameter.
 */
import type { Principal } from '../../auth/principal.js';

export type ResponseShape = 'energie' | 'complet';

export function responseShapeOf(principal: Principal): ResponseShape {
  if (principal.role === 'consumer') return principal.purpose === 'ent' ? 'complet' : 'energie';
  // Managers may see the timetable (they use VUE); auditors check energy rules, not lessons.
  return principal.role === 'manager' || principal.role === 'admin' ? 'complet' : 'energie';
}

/** Whether the caller may read the normalised timetable (personal data: teachers, groups). */
export function mayReadTimetable(principal: Principal): boolean {
  if (principal.role === 'consumer') return principal.purpose === 'ent';
  return principal.role === 'manager' || principal.role === 'admin';
}
