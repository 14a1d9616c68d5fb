/**
 * Cross-file checks for `scope-energie check` and the VUE data-quality panel: devices/ against a
 * timetable's rooms, and rules/ against devices/. Each problem names `file:line (field)`.
 * (Structural errors inside one file, such as an undefined gateway, already refuse the file at
 * load; they are repeated here so a value built in code is checked the same way.)
 */
import { formatWhere } from '../config/yaml-file.js';
import type { LoadedDevices } from '../devices/load.js';
import type { ZoneFunction } from '../devices/schema.js';
import type { Problem } from '../domain/problems.js';
import { resolveZoneRules } from './resolve.js';
import type { RuleSet } from './rule-set.js';

export interface TimetableRoomRef {
  id: string;
  name: string;
}

/** Devices file vs the rooms of the school's current timetable. */
export function checkDevicesAgainstRooms(
  devices: LoadedDevices,
  rooms: readonly TimetableRoomRef[],
): Problem[] {
  const { file, value, lineOf } = devices;
  const at = (path: (string | number)[]): string => formatWhere(file, lineOf(path), undefined, path);
  const problems: Problem[] = [];
  const gatewayIds = new Set(value.gateways.map((g) => g.id));
  const byIdOrName = new Map<string, string>();
  for (const room of rooms) {
    byIdOrName.set(room.id, room.id);
    byIdOrName.set(room.name, room.id);
  }
  /** Timetable room id → zones (index, functions) that claim it. */
  const claimed = new Map<string, { zone: string; functions: readonly ZoneFunction[] }[]>();
  value.zones.forEach((zone, i) => {
    if (!gatewayIds.has(zone.gateway)) {
      problems.push({
        code: 'gateway-undefined',
        message: `zone ${zone.id} uses gateway "${zone.gateway}", which is not defined in gateways`,
        where: at(['zones', i, 'gateway']),
      });
    }
    if (zone.rooms.length === 0) {
      problems.push({
        code: 'zone-without-rooms',
        message: `zone ${zone.id} has no rooms: no lesson can ever occupy it`,
        where: at(['zones', i, 'rooms']),
      });
    }
    zone.rooms.forEach((name, j) => {
      const roomId = byIdOrName.get(name);
      if (roomId === undefined) {
        problems.push({
          code: 'room-unknown',
          message: `room "${name}" of zone ${zone.id} is not in the timetable (neither an id nor a name)`,
          where: at(['zones', i, 'rooms', j]),
        });
        return;
      }
      const others = claimed.get(roomId) ?? [];
      for (const other of others) {
        const shared = zone.functions.filter((f) => other.functions.includes(f));
        if (shared.length > 0) {
          problems.push({
            code: 'room-in-two-zones',
            message: `room ${roomId} is in zones ${other.zone} and ${zone.id}, which both drive ${shared.join(', ')}`,
            where: at(['zones', i, 'rooms', j]),
          });
        }
      }
      claimed.set(roomId, [...others, { zone: zone.id, functions: zone.functions }]);
    });
  });
  for (const room of rooms) {
    if (!claimed.has(room.id)) {
      problems.push({
        code: 'room-without-zone',
        message: `timetable room ${room.id}${room.name !== room.id ? ` (${room.name})` : ''} belongs to no zone: its lessons drive nothing`,
        where: at(['zones']),
      });
    }
  }
  return problems;
}

/** Rule entries that name a school or zone the devices files do not define. */
export function checkRulesAgainstDevices(ruleSet: RuleSet, devices: readonly LoadedDevices[]): Problem[] {
  const problems: Problem[] = [];
  const byUai = new Map(devices.map((d) => [d.value.school.uai, d]));
  for (const [uai, school] of Object.entries(ruleSet.value.schools)) {
    const path = ['schools', uai];
    const known = byUai.get(uai);
    if (!known) {
      problems.push({
        code: 'rules-school-unknown',
        message: `rules for school ${uai}, which has no devices file`,
        where: formatWhere(ruleSet.file, ruleSet.lineOf(path), undefined, path),
      });
      continue;
    }
    const zoneIds = new Set(known.value.zones.map((z) => z.id));
    for (const zone of Object.keys(school.zones ?? {})) {
      if (zoneIds.has(zone)) continue;
      const zonePath = [...path, 'zones', zone];
      problems.push({
        code: 'rules-zone-unknown',
        message: `rules for zone ${zone}, which ${known.file} does not define`,
        where: formatWhere(ruleSet.file, ruleSet.lineOf(zonePath), undefined, zonePath),
      });
    }
  }
  return problems;
}

export interface ZoneCoverage {
  uai: string;
  zone: string;
  category: string;
  heating_type?: string;
  /** Rule id deciding each heating situation: an auditor sees which zones only follow the defaults. */
  rules: Record<string, string>;
}

/**
 * Which rule decides each zone's heating. Every zone is covered (the schema requires complete
 * `defaults`); this table shows whether a category- or zone-specific rule applies.
 */
export function ruleCoverage(ruleSet: RuleSet, devices: readonly LoadedDevices[]): ZoneCoverage[] {
  const out: ZoneCoverage[] = [];
  for (const d of devices) {
    for (const zone of d.value.zones) {
      const resolved = resolveZoneRules(ruleSet, d.value.school.uai, zone);
      const row: ZoneCoverage = {
        uai: d.value.school.uai,
        zone: zone.id,
        category: zone.category,
        rules: Object.fromEntries(Object.entries(resolved.heating).map(([key, entry]) => [key, entry.rule])),
      };
      if (zone.heating_type) row.heating_type = zone.heating_type;
      out.push(row);
    }
  }
  return out;
}
