/**
 * The plan hash recorded in the audit with the rule-set version (rules.md, "Plan output"):
 * sha256 of a canonical JSON (keys sorted, undefined dropped), so equal plans hash equal
 * whatever order their objects were built in.
 */
import { sha256Hex } from '../auth/secrets.js';
import type { ZonePlan } from './segment.js';

export function planHash(plan: ZonePlan | Record<string, ZonePlan>): string {
  return sha256Hex(canonicalJson(plan));
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
