/**
 * A region of 120 schools for the overview's tests (overview.test.ts, region.browser.test.ts):
 * three départements, and sync, gateways and timetables that differ by a rule on the school's
 * index, so that every figure the overview shows can be counted by hand:
 * département by i % 3 (67, 68, 57); stale sync i % 4 == 0; gateway offline i % 5 == 0, else
 * never seen i % 7 == 0; a taught room in no zone i % 6 == 0; a zone naming a gone room
 * i % 10 == 0. School 7 is « Lycée Émile Zola », the others « Lycée 000 » … « Lycée 119 ».
 */
import type { GatewayReport } from '../../src/bridge/gateway-tracker.js';
import type { SchoolSyncStatus } from '../../src/bridge/sync.js';
import type { DashboardDeps } from '../../src/dashboard/deps.js';
import type { LoadedDevices } from '../../src/devices/load.js';
import { devicesFileSchema } from '../../src/devices/schema.js';
import { ManualClock } from '../../src/domain/clock.js';
import { type Timetable, timetableSchema } from '../../src/domain/timetable.js';
import { uaiCheckLetter } from '../../src/domain/uai.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { tempWorkDir } from '../helpers/cli.js';

export const SCHOOLS = 120;
// Monday 12 January 2026, 18:30 in Strasbourg (a school day, holiday data known months ahead).
export const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
const PREFIXES = ['067', '068', '057'] as const;
const HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export function uaiOf(i: number): string {
  const digits = `${PREFIXES[i % 3]}${String(1000 + i).padStart(4, '0')}`;
  return `${digits}${uaiCheckLetter(digits)}`;
}
export const nameOf = (i: number) => (i === 7 ? 'Lycée Émile Zola' : `Lycée ${String(i).padStart(3, '0')}`);

const devices = new Map<string, LoadedDevices>();
const timetables = new Map<string, Timetable>();
const gateways = new Map<string, GatewayReport[]>();
const stale = new Set<string>();
for (let i = 0; i < SCHOOLS; i++) {
  const uai = uaiOf(i);
  const value = devicesFileSchema.parse({
    school: { uai, name: nameOf(i), timezone: 'Europe/Paris' },
    gateways: [{ id: 'gw', username: `gw-${uai}`, password_hash: HASH }],
    zones: [
      {
        id: 'z1',
        name: 'Salles',
        gateway: 'gw',
        rooms: i % 10 === 0 ? ['R1', 'GONE'] : ['R1'],
        functions: ['heating'],
        category: 'classroom',
        heating_type: 'hydronic',
      },
    ],
  });
  devices.set(uai, { file: `devices/${uai}.yaml`, value, lineOf: () => 1 });
  const rooms = [{ id: 'R1', name: 'R1' }, ...(i % 6 === 0 ? [{ id: 'X1', name: 'X1' }] : [])];
  timetables.set(
    uai,
    timetableSchema.parse({
      uai,
      rooms,
      lessons: rooms.map((room) => ({
        id: `cours-${room.id}`,
        rooms: [room.id],
        day: 1,
        start: '08:00',
        end: '09:00',
        weeks: ['2026-01-12'],
      })),
    }),
  );
  const offline = i % 5 === 0;
  const never = !offline && i % 7 === 0;
  gateways.set(uai, [
    {
      uai,
      gateway: 'gw',
      state: offline ? 'offline' : never ? 'unknown' : 'online',
      last_seen: never ? null : '2026-01-12T15:05:00.000Z',
      zones: [],
    },
  ]);
  if (i % 4 === 0) stale.add(uai);
}

function syncStatus(uai: string): SchoolSyncStatus {
  const late = stale.has(uai);
  return {
    uai,
    state: late ? 'stale' : 'ok',
    stale: late,
    fallback: false,
    version: 1,
    range: null,
    fetched_at: null,
    last_success_at: null,
    age_hours: late ? 30 : 1,
    last_error: null,
  };
}

const notUsed = async (): Promise<never> => {
  throw new Error('the overview does not touch overrides');
};

/** The dashboard's dependencies over the region; `calls.gateways` counts per-school tracker reports. */
export function regionDashboardDeps(): {
  deps: Omit<DashboardDeps, 'authenticator'>;
  calls: { gateways: number };
} {
  const calls = { gateways: 0 };
  const deps: Omit<DashboardDeps, 'authenticator'> = {
    clock,
    devices: () => devices,
    calendars: new CalendarSource({ zone: 'B', dataDir: tempWorkDir() }),
    planFor: notUsed,
    occupancy: async () => null,
    syncStatus,
    gateways: (uai) => {
      calls.gateways++;
      return gateways.get(uai) ?? [];
    },
    allGateways: () => [...gateways.values()].flat(),
    timetable: async (uai) => timetables.get(uai) ?? null,
    overrides: { create: notUsed, cancel: notUsed, list: notUsed, getStored: notUsed },
  };
  return { deps, calls };
}
