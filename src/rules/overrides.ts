/**
 * Manager overrides (rules.md, "Overrides"): they win over the rules while active; when two
 * overlap on one zone and function the newest wins and the other is reported as shadowed.
 * "Until the next planned change" is resolved by the caller with `nextChangeAfter` (planner.ts)
 * before the override is stored, so here every override has a finite `until`.
 */
import { z } from 'zod';
import { ZONE_FUNCTIONS, type ZoneFunction } from '../devices/schema.js';
import { HEATING_MODES, SWITCH_MODES } from './schema.js';
import type { PlanMode } from './segment.js';

export interface Override {
  id: string;
  zone: string;
  function: ZoneFunction;
  mode: PlanMode;
  setpoint_c?: number;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  until: number;
  author: string;
  reason: string;
  /** Epoch ms; decides which of two overlapping overrides wins. */
  created_at: number;
}

/** Overrides never last forever (rules.md: default cap 14 days). */
export const OVERRIDE_MAX_DURATION_MS = 14 * 24 * 3600_000;

/** Shape check for overrides coming from storage or the API (heating modes for heating, on/off otherwise). */
export const overrideSchema = z
  .strictObject({
    id: z.string().min(1),
    zone: z.string().min(1),
    function: z.enum(ZONE_FUNCTIONS),
    mode: z.enum([...HEATING_MODES, ...SWITCH_MODES]),
    setpoint_c: z.number().min(5).max(30).optional(),
    from: z.int(),
    until: z.int(),
    author: z.string().trim().min(1),
    reason: z.string().trim().min(1),
    created_at: z.int(),
  })
  .superRefine((o, ctx) => {
    const modes: readonly string[] = o.function === 'heating' ? HEATING_MODES : SWITCH_MODES;
    if (!modes.includes(o.mode)) {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: `mode must be one of ${modes.join(', ')} for ${o.function}`,
      });
    }
    if (o.until <= o.from)
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'until must be after from' });
    if (o.until - o.from > OVERRIDE_MAX_DURATION_MS) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'an override lasts at most 14 days' });
    }
  });

/** True when `a` wins over `b`: newer `created_at`, then the greater id (deterministic on ties). */
export function overrideWins(a: Override, b: Override): boolean {
  return a.created_at !== b.created_at ? a.created_at > b.created_at : a.id > b.id;
}

export interface OverrideSlice {
  from: number;
  to: number;
  winner: Override;
  /** Active overrides that lose during this slice. */
  shadowed: Override[];
}

/** Elementary intervals of `[from, to)` where at least one override is active, with the winner. */
export function overrideSlices(
  overrides: readonly Override[],
  range: { from: number; to: number },
): OverrideSlice[] {
  const relevant = overrides.filter((o) => o.until > range.from && o.from < range.to && o.until > o.from);
  if (relevant.length === 0) return [];
  const bounds = new Set<number>([range.from, range.to]);
  for (const o of relevant) {
    if (o.from > range.from) bounds.add(o.from);
    if (o.until < range.to) bounds.add(o.until);
  }
  const sorted = [...bounds].sort((a, b) => a - b);
  const slices: OverrideSlice[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const from = sorted[i] as number;
    const to = sorted[i + 1] as number;
    const active = relevant.filter((o) => o.from <= from && o.until >= to);
    if (active.length === 0) continue;
    const winner = active.reduce((best, o) => (overrideWins(o, best) ? o : best));
    const shadowed = active.filter((o) => o !== winner);
    const last = slices[slices.length - 1];
    if (last && last.to === from && last.winner === winner && sameIds(last.shadowed, shadowed)) last.to = to;
    else slices.push({ from, to, winner, shadowed });
  }
  return slices;
}

export interface ShadowedOverride {
  override_id: string;
  /** The newer override that wins meanwhile. */
  by: string;
  from: number;
  to: number;
}

/** Where an override of `zone`/`fn` is hidden by a newer one within `range` (for the dashboard and audit). */
export function shadowedOverrides(
  overrides: readonly Override[],
  zone: string,
  fn: ZoneFunction,
  range: { from: number; to: number },
): ShadowedOverride[] {
  const mine = overrides.filter((o) => o.zone === zone && o.function === fn);
  const out: ShadowedOverride[] = [];
  for (const slice of overrideSlices(mine, range)) {
    for (const loser of slice.shadowed) {
      const last = out.find(
        (s) => s.override_id === loser.id && s.by === slice.winner.id && s.to === slice.from,
      );
      if (last) last.to = slice.to;
      else out.push({ override_id: loser.id, by: slice.winner.id, from: slice.from, to: slice.to });
    }
  }
  return out.sort((a, b) => a.from - b.from || a.override_id.localeCompare(b.override_id));
}

function sameIds(a: readonly Override[], b: readonly Override[]): boolean {
  return a.length === b.length && a.every((o, i) => o.id === b[i]?.id);
}
