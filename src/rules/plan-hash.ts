/**
 * The plan hash recorded in the audit with the rule-set version (rules.md, "Plan output"):
 * sha256 over a canonical serialisation, so equal plans hash equal whatever order their objects
 * were built in. Segments, the bulk of a plan, are written field by field in a fixed order
 * straight into the hash (a region's week is ~1.7 M segments: building one canonical JSON
 * string of it cost more than planning it); anything else goes through `canonicalJson`.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Segment, ZonePlan } from './segment.js';

export function planHash(plan: ZonePlan | Record<string, ZonePlan>): string {
  const hash = createHash('sha256');
  writeCanonical(hash, plan);
  return hash.digest('hex');
}

function isSegment(value: object): value is Segment {
  return 'from' in value && 'to' in value && 'mode' in value && 'reason' in value && 'function' in value;
}

function writeCanonical(hash: Hash, value: unknown): void {
  if (value === null || typeof value !== 'object') {
    hash.update(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((item, i) => {
      if (i > 0) hash.update(',');
      if (item === undefined) hash.update('null');
      else writeCanonical(hash, item);
    });
    hash.update(']');
    return;
  }
  if (isSegment(value)) {
    hash.update(segmentText(value));
    return;
  }
  const keys = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  hash.update('{');
  keys.forEach((key, i) => {
    hash.update(`${i > 0 ? ',' : ''}${JSON.stringify(key)}:`);
    writeCanonical(hash, (value as Record<string, unknown>)[key]);
  });
  hash.update('}');
}

/** A segment as a tagged, fixed-order record: every field named, absent ones written as null. */
function segmentText(s: Segment): string {
  const r = s.reason;
  return `S(${s.from},${s.to},${s.function},${s.mode},${s.setpoint_c ?? null},${r.kind},${JSON.stringify(r.rule)},${JSON.stringify(r.basis)},${r.lessons ? JSON.stringify(r.lessons) : null},${r.gap_hours ?? null},${r.gap_open_ended ?? null},${r.override_id === undefined ? null : JSON.stringify(r.override_id)},${r.exception ? canonicalJson(r.exception) : null})`;
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
