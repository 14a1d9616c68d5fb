/**
 * A setback is never warmer than comfort: an unoccupied tier (short gap, 24–48 h, ≥ 48 h) above
 * the occupied setpoint that applies to the same zone heats an empty room more than an occupied
 * one, which no article allows (R241-26 caps the occupied value, R241-27 the unoccupied ones
 * *below* it). Issue 20: `categories.gym` occupied at 14 °C while the nights got 16 °C from
 * `defaults`. Each tier is checked as resolved, layer against layer, since the contradiction
 * usually comes from two different layers.
 */
import { formatPath, formatWhere } from '../config/yaml-file.js';
import { HEATING_TYPES, ZONE_CATEGORIES } from '../devices/schema.js';
import type { Problem } from '../domain/problems.js';
import { type ResolvedRules, type ResolvedSetpoint, resolveZoneRules, type ZoneRuleKey } from './resolve.js';
import type { RuleSet } from './rule-set.js';

export const UNOCCUPIED_TIERS = [
  'unoccupied_under_24h',
  'unoccupied_24h_to_48h',
  'unoccupied_48h_or_more',
] as const;

/** The occupied setpoint, °C, that an unoccupied tier must not exceed; undefined when occupied is off. */
export function occupiedCeiling(rules: ResolvedRules): ResolvedSetpoint | undefined {
  const occupied = rules.heating.occupied;
  return occupied.mode === 'off' || occupied.setpoint_c === undefined ? undefined : occupied;
}

/**
 * Every (tier, occupied) pair of rule entries that contradict each other, for every category and
 * heating type, with and without each school's layer, and for `zones` (the zones of devices/,
 * which alone select the `schools.{uai}.zones.{zone}` layers). One problem per pair of entries,
 * at the unoccupied entry's `setpoint_c`.
 */
export function checkSetbacksBelowOccupied(
  ruleSet: RuleSet,
  zones: readonly { uai: string; zone: ZoneRuleKey; label?: string }[] = [],
): Problem[] {
  const contexts: { uai: string; zone: ZoneRuleKey; label: string }[] = [];
  const schools = ['', ...Object.keys(ruleSet.value.schools)];
  for (const uai of schools) {
    for (const category of ZONE_CATEGORIES) {
      for (const heating_type of [undefined, ...HEATING_TYPES]) {
        const zone: ZoneRuleKey = heating_type ? { id: '', category, heating_type } : { id: '', category };
        const label = `${category} zones${heating_type ? ` (${heating_type})` : ''}${uai ? ` of ${uai}` : ''}`;
        contexts.push({ uai, zone, label });
      }
    }
  }
  for (const z of zones) contexts.push({ ...z, label: z.label ?? `zone ${z.zone.id} of ${z.uai}` });

  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const { uai, zone, label } of contexts) {
    const rules = resolveZoneRules(ruleSet, uai, zone);
    const occupied = occupiedCeiling(rules);
    if (!occupied) continue;
    for (const tier of UNOCCUPIED_TIERS) {
      const entry = rules.heating[tier];
      if (entry.mode === 'off' || entry.setpoint_c === undefined) continue;
      if (entry.setpoint_c <= (occupied.setpoint_c as number)) continue;
      const key = `${entry.rule}|${occupied.rule}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const field = [...entry.rule.split('.'), 'setpoint_c'];
      problems.push({
        code: 'setback-above-occupied',
        message:
          `${formatPath(field)} sends ${entry.setpoint_c} °C to ${label}, warmer than their occupied ` +
          `${occupied.setpoint_c} °C (${occupied.rule}): an unoccupied tier must not exceed the occupied ` +
          `setpoint (R241-26/R241-27); lower it or add ${occupied.rule.replace(/\.occupied$/, `.${tier}`)} ` +
          `at most ${occupied.setpoint_c} °C`,
        where: formatWhere(ruleSet.file, ruleSet.lineOf(field), undefined, field),
      });
    }
  }
  return problems;
}
