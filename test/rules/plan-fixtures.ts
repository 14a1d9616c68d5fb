/** Shared inputs of the rules tests: the shipped rule file, demo-like zones, UTC helpers. */
import { readFileSync } from 'node:fs';
import type { Zone } from '../../src/devices/schema.js';
import { type ResolvedRules, resolveZoneRules } from '../../src/rules/resolve.js';
import { loadRulesFile, type RuleSet } from '../../src/rules/rule-set.js';

export const DEFAULT_RULES_TEXT = readFileSync(new URL('../../rules/default.yaml', import.meta.url), 'utf8');
export const defaultRuleSet: RuleSet = loadRulesFile(DEFAULT_RULES_TEXT, 'rules/default.yaml');
export const UAI = '0670999X';

export const t = (iso: string): number => Date.parse(iso);

export function zone(overrides: Partial<Zone> = {}): Zone {
  return {
    id: 'batiment-b-est',
    name: 'Bâtiment B',
    gateway: 'gw-tilleuls',
    rooms: ['B101', 'B102', 'B103'],
    functions: ['heating'],
    category: 'classroom',
    heating_type: 'hydronic',
    ...overrides,
  };
}

export function rulesFor(z: Zone, ruleSet: RuleSet = defaultRuleSet): ResolvedRules {
  return resolveZoneRules(ruleSet, UAI, z);
}

/** `[start, end)` as UTC ISO instants. */
export function occ(start: string, end: string, source?: string[]) {
  return source ? { start: t(start), end: t(end), source } : { start: t(start), end: t(end) };
}

export const B = {
  occupied: {
    rule: 'defaults.heating.occupied',
    basis: "Code de l'énergie R241-26: 19 °C maximum while occupied",
  },
  preheat: {
    rule: 'defaults.heating.preheat_minutes',
    basis: 'local decision: 60 min preheat before occupancy (docs/regulation.md, Control practice)',
  },
  under24: {
    rule: 'defaults.heating.unoccupied_under_24h',
    basis:
      'local decision: 16 °C for gaps under 24 h (plan de sobriété 2022, 16 °C at night; docs/regulation.md, Control practice)',
  },
  from24to48: {
    rule: 'defaults.heating.unoccupied_24h_to_48h',
    basis: "Code de l'énergie R241-27: 16 °C when unoccupied 24 h to 48 h",
  },
  over48: {
    rule: 'defaults.heating.unoccupied_48h_or_more',
    basis: "Code de l'énergie R241-27: 8 °C when unoccupied 48 h or more",
  },
  mergeHydronic: {
    rule: 'defaults.heating.merge_gap_minutes',
    basis:
      'local decision: gaps under 90 min stay comfort on hydronic heating (avoid cycling; docs/regulation.md, Control practice)',
  },
} as const;
