/**
 * The rules that apply to one zone, each value with the rule id (its YAML path) and basis it came
 * from, so that every planned segment can say which line of which policy decided it.
 */
import type { Zone } from '../devices/schema.js';
import type { RuleSet } from './rule-set.js';
import type {
  FallbackWeek,
  HeatingEntry,
  HeatingMode,
  HeatingSection,
  LightingSection,
  MinutesEntry,
  OptimumStartEntry,
  OptimumStopEntry,
  RuleException,
  SwitchEntry,
  SwitchMode,
  VentilationSection,
} from './schema.js';

export interface RuleRef {
  /** YAML path of the deciding entry: `categories.gym.heating.occupied`. */
  rule: string;
  basis: string;
  exception?: RuleException;
}
export interface ResolvedSetpoint extends RuleRef {
  mode: HeatingMode;
  setpoint_c?: number;
}
export interface ResolvedMinutes extends RuleRef {
  value: number;
}
/** Optimum start settings (docs/optimum-start.md). */
export interface ResolvedOptimumStart extends RuleRef {
  min_starts: number;
  max_preheat_minutes: number;
}
/** When no rule file sets `heating.optimum_start`: 5 starts, 3 h (docs/optimum-start.md). */
export const DEFAULT_OPTIMUM_START: ResolvedOptimumStart = {
  min_starts: 5,
  max_preheat_minutes: 180,
  rule: 'optimum-start',
  basis:
    'built-in default: 5 learned starts, at most 3 h (ASHRAE Guideline 36 warm-up cap; docs/optimum-start.md)',
};
/** Optimum stop settings (docs/optimum-start.md, "Optimum stop"); absent: off. */
export interface ResolvedOptimumStop extends RuleRef {
  enabled: boolean;
  tolerance_c: number;
  max_minutes: number;
}
export interface ResolvedSwitch extends RuleRef {
  mode: SwitchMode;
}

export interface ResolvedRules {
  rule_set: { name: string; version: string };
  heating: {
    occupied: ResolvedSetpoint;
    unoccupied_under_24h: ResolvedSetpoint;
    unoccupied_24h_to_48h: ResolvedSetpoint;
    unoccupied_48h_or_more: ResolvedSetpoint;
    merge_gap_minutes: ResolvedMinutes;
    preheat_minutes: ResolvedMinutes;
    early_stop_minutes: ResolvedMinutes;
    /** Absent in rules built in code: DEFAULT_OPTIMUM_START applies. */
    optimum_start?: ResolvedOptimumStart;
    /** Absent when no rule file sets `heating.optimum_stop`: off. */
    optimum_stop?: ResolvedOptimumStop;
  };
  lighting: {
    occupied: ResolvedSwitch;
    unoccupied: ResolvedSwitch;
    lead_minutes: ResolvedMinutes;
    lag_minutes: ResolvedMinutes;
  };
  ventilation: {
    occupied: ResolvedSwitch;
    unoccupied: ResolvedSwitch;
    purge_before_minutes: ResolvedMinutes;
    purge_after_minutes: ResolvedMinutes;
  };
  fallback_week: FallbackWeek & RuleRef;
}

/** Preheat bounds of rules.md ("clamped to 15 min–3 h"; G36 warm-up ≤ 3 h, docs/regulation.md, "Control practice"). */
export const PREHEAT_MIN_MINUTES = 15;
export const PREHEAT_MAX_MINUTES = 180;

interface Layer {
  prefix: string;
  /** `heating_types.{type}` holds heating entries directly, without a `heating:` level. */
  flat?: true;
  heating?: Partial<HeatingSection>;
  lighting?: Partial<LightingSection>;
  ventilation?: Partial<VentilationSection>;
}

/** What of a zone selects its rules (a whole `Zone` from devices/ fits). */
export type ZoneRuleKey = Pick<Zone, 'id' | 'category' | 'heating_type' | 'preheat_minutes'>;

/** Resolves the rules of `zone` (from devices/) of school `uai`; the most specific layer wins per entry. */
export function resolveZoneRules(ruleSet: RuleSet, uai: string, zone: ZoneRuleKey): ResolvedRules {
  const rules = ruleSet.value;
  const school = rules.schools[uai];
  const layers: Layer[] = [{ prefix: 'defaults', ...rules.defaults }];
  const byType = zone.heating_type ? rules.heating_types[zone.heating_type] : undefined;
  if (byType) layers.push({ prefix: `heating_types.${zone.heating_type}`, flat: true, heating: byType });
  const byCategory = rules.categories[zone.category];
  if (byCategory) layers.push({ prefix: `categories.${zone.category}`, ...byCategory });
  if (school) layers.push({ prefix: `schools.${uai}`, ...school });
  const zoneLayer = school?.zones?.[zone.id];
  if (zoneLayer) layers.push({ prefix: `schools.${uai}.zones.${zone.id}`, ...zoneLayer });

  const pick = (
    fn: 'heating' | 'lighting' | 'ventilation',
    key: string,
  ): { entry: HeatingEntry | MinutesEntry | SwitchEntry; rule: string } => {
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i];
      const section = layer?.[fn] as Record<string, HeatingEntry | MinutesEntry | SwitchEntry> | undefined;
      const entry = section?.[key];
      if (layer && entry) {
        return { entry, rule: layer.flat ? `${layer.prefix}.${key}` : `${layer.prefix}.${fn}.${key}` };
      }
    }
    // Unreachable: `defaults` holds every entry (the schema requires it).
    throw new Error(`rule set ${ruleSet.file} has no ${fn}.${key}`);
  };
  const setpoint = (key: string): ResolvedSetpoint => {
    const { entry, rule } = pick('heating', key);
    const e = entry as HeatingEntry;
    return withOptional({ mode: e.mode, rule, basis: e.basis }, e.setpoint_c, e.exception);
  };
  const minutes = (fn: 'heating' | 'lighting' | 'ventilation', key: string): ResolvedMinutes => {
    const { entry, rule } = pick(fn, key);
    return { value: (entry as MinutesEntry).value, rule, basis: entry.basis };
  };
  const onOff = (fn: 'lighting' | 'ventilation', key: string): ResolvedSwitch => {
    const { entry, rule } = pick(fn, key);
    return { mode: (entry as SwitchEntry).mode, rule, basis: entry.basis };
  };

  // A zone's measured lead (devices/) is more specific than any general rule, but a zone entry in
  // the rules file is the policy's last word.
  let preheat = minutes('heating', 'preheat_minutes');
  if (zone.preheat_minutes !== undefined && !zoneLayer?.heating?.preheat_minutes) {
    preheat = {
      value: zone.preheat_minutes,
      rule: `devices/${uai}.yaml zones.${zone.id}.preheat_minutes`,
      basis: "zone's measured preheat lead (devices file)",
    };
  }
  let optimumStart = DEFAULT_OPTIMUM_START;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    const entry = (layer?.heating as { optimum_start?: OptimumStartEntry } | undefined)?.optimum_start;
    if (layer && entry) {
      optimumStart = {
        min_starts: entry.min_starts,
        max_preheat_minutes: entry.max_preheat_minutes,
        rule: layer.flat ? `${layer.prefix}.optimum_start` : `${layer.prefix}.heating.optimum_start`,
        basis: entry.basis,
      };
      break;
    }
  }
  let optimumStop: ResolvedOptimumStop | undefined;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    const entry = (layer?.heating as { optimum_stop?: OptimumStopEntry } | undefined)?.optimum_stop;
    if (layer && entry) {
      optimumStop = {
        enabled: entry.enabled,
        tolerance_c: entry.tolerance_c,
        max_minutes: entry.max_minutes,
        rule: layer.flat ? `${layer.prefix}.optimum_stop` : `${layer.prefix}.heating.optimum_stop`,
        basis: entry.basis,
      };
      break;
    }
  }
  preheat = {
    ...preheat,
    value: Math.min(PREHEAT_MAX_MINUTES, Math.max(PREHEAT_MIN_MINUTES, preheat.value)),
  };

  return {
    rule_set: { name: rules.name, version: rules.version },
    heating: {
      occupied: setpoint('occupied'),
      unoccupied_under_24h: setpoint('unoccupied_under_24h'),
      unoccupied_24h_to_48h: setpoint('unoccupied_24h_to_48h'),
      unoccupied_48h_or_more: setpoint('unoccupied_48h_or_more'),
      merge_gap_minutes: minutes('heating', 'merge_gap_minutes'),
      preheat_minutes: preheat,
      early_stop_minutes: minutes('heating', 'early_stop_minutes'),
      optimum_start: optimumStart,
      ...(optimumStop ? { optimum_stop: optimumStop } : {}),
    },
    lighting: {
      occupied: onOff('lighting', 'occupied'),
      unoccupied: onOff('lighting', 'unoccupied'),
      lead_minutes: minutes('lighting', 'lead_minutes'),
      lag_minutes: minutes('lighting', 'lag_minutes'),
    },
    ventilation: {
      occupied: onOff('ventilation', 'occupied'),
      unoccupied: onOff('ventilation', 'unoccupied'),
      purge_before_minutes: minutes('ventilation', 'purge_before_minutes'),
      purge_after_minutes: minutes('ventilation', 'purge_after_minutes'),
    },
    fallback_week: { ...rules.fallback_week, rule: 'fallback_week' },
  };
}

function withOptional(
  base: Omit<ResolvedSetpoint, 'setpoint_c' | 'exception'>,
  setpoint_c: number | undefined,
  exception: RuleException | undefined,
): ResolvedSetpoint {
  const out: ResolvedSetpoint = { ...base };
  if (setpoint_c !== undefined) out.setpoint_c = setpoint_c;
  if (exception !== undefined) out.exception = exception;
  return out;
}
