/**
 * The dashboard's dependencies from the running service's parts (bridge, site, store,
 * calendars), so that the composition root only names them.
 */
import type { Bridge } from '../bridge/bridge.js';
import { localDate } from '../bridge/school-plan.js';
import type { Clock } from '../domain/clock.js';
import { mondayOf } from '../domain/dates.js';
import { zoneComfortSetpoints } from '../savings/baseline.js';
import { schoolMeasuredSavings } from '../savings/school-measured-savings.js';
import { inProcessViewRunner, LruCache, ViewCache, type ViewTaskRunner } from '../scope/vue/view-pool.js';
import type { CalendarSource } from '../site/calendars.js';
import type { SiteHolder } from '../site/site-holder.js';
import type { Store } from '../store/store.js';
import { type ComfortSettings, DEFAULT_COMFORT_SETTINGS } from '../telemetry/comfort.js';
import type { DashboardDeps } from './deps.js';

/**
 * Bound of the per-version cache: 2 entries per school for up to 1,000 schools, with room for the
 * versions replaced by imports (an entry is a school year, a grid and ≤ a few hundred rooms, or
 * one page of findings: a few kB).
 */
export const DASHBOARD_VIEW_CACHE_ENTRIES = 2_048;

/** School weeks of occupancy kept for the school pages (per school, week and stored version). */
export const OCCUPANCY_CACHE_ENTRIES = 64;

export function dashboardDepsOf(parts: {
  bridge: Bridge;
  site: SiteHolder;
  store: Store;
  calendars: CalendarSource;
  clock: Clock;
  publicUrl?: string | undefined;
  /** Where timetable-sized work runs (the service: the view worker); default: this thread. */
  runView?: ViewTaskRunner | undefined;
  /** The comfort definitions of the configuration (telemetry.hold_minutes, comfort.*). */
  comfortSettings?: ComfortSettings | undefined;
}): Omit<DashboardDeps, 'authenticator'> {
  const { bridge, site, store } = parts;
  // Two entries per school (its dates and its unmapped rooms, each per stored version): sized for
  // a region, so that the overview and the /metrics gauge, which ask for every school, find them
  // again. At 64 (the default) a region of 350 schools evicted every entry before its next use
  // and every view decoded all 350 timetables again in the worker.
  const views = new ViewCache(parts.runView ?? inProcessViewRunner, DASHBOARD_VIEW_CACHE_ENTRIES);
  // A week of a school's rooms each (tens of kB): at 16, 20 school pages viewed in turn evicted
  // each before it was viewed again, and each view expanded its week again in SORTIE.
  const occupancies = new LruCache<ReturnType<DashboardDeps['occupancy']>>(OCCUPANCY_CACHE_ENTRIES);
  const currentMeta = batchedCurrentMeta(store);
  return {
    clock: parts.clock,
    publicUrl: parts.publicUrl,
    devices: () => site.current.devices,
    calendars: parts.calendars,
    planFor: (uai, date, days) => bridge.planning.planFor(uai, date, days),
    zoneComfort: (uai) =>
      zoneComfortSetpoints(site.current.ruleSet, uai, site.current.devices.get(uai)?.value.zones ?? []),
    measuredSavings: (uai, query) => {
      const school = site.current.devices.get(uai)?.value.school;
      const calendar = parts.calendars.forSchool(uai, {
        departement: school?.departement,
        timezone: school?.timezone ?? 'Europe/Paris',
      });
      return schoolMeasuredSavings({
        uai,
        timezone: calendar.timezone,
        departement: calendar.departement,
        query,
        meters: store.meters,
      });
    },
    // Per stored version: a SORTIE answer decodes and expands the whole timetable on this
    // thread, and the same week is asked again at every view of the page.
    occupancy: async (uai, dates) => {
      const meta = await currentMeta(uai);
      if (!meta) return bridge.sync.loadRange(uai, dates);
      const key = [uai, dates.from, dates.to, meta.version, meta.sha256, parts.calendars.fingerprint].join(
        '|',
      );
      const known = occupancies.get(key);
      if (known) return known;
      const loaded = bridge.sync.loadRange(uai, dates);
      occupancies.set(key, loaded);
      loaded.catch(() => occupancies.delete(key, loaded));
      return loaded;
    },
    syncStatus: (uai) => bridge.sync.currentStatus(uai),
    gateways: (uai) => bridge.tracker.schoolReport(uai),
    allGateways: () => bridge.tracker.report(),
    timetable: async (uai) => (await store.timetables.current(uai))?.timetable ?? null,
    // Kept per stored version and zones: a dashboard view decodes no timetable on this thread.
    unknownRooms: async (uai, devices) => {
      const meta = await currentMeta(uai);
      if (!meta) return null;
      const zones = devices.value.zones.map((zone) => ({ rooms: [...zone.rooms] }));
      const key = [uai, meta.version, meta.sha256, devices.file, JSON.stringify(zones)].join('|');
      const result = await views.run(key, async () => {
        const encoded = await store.timetables.currentEncoded(uai);
        if (!encoded) throw new Error(`the timetable of ${uai} went away while the dashboard read it`);
        return {
          kind: 'unknown-rooms',
          document: encoded.document,
          zones,
          file: devices.file,
          referenceMonday: mondayOf(localDate(parts.clock.now(), devices.value.school.timezone)),
        };
      });
      return result.kind === 'unknown-rooms' ? result.finding : null;
    },
    // Per stored version, like unknownRooms: the calendar alerts need two fields of the document.
    timetableDates: async (uai) => {
      const meta = await currentMeta(uai);
      if (!meta) return null;
      const result = await views.run(['dates', uai, meta.version, meta.sha256].join('|'), async () => {
        const encoded = await store.timetables.currentEncoded(uai);
        if (!encoded) throw new Error(`the timetable of ${uai} went away while the dashboard read it`);
        return { kind: 'dates', document: encoded.document };
      });
      return result.kind === 'dates' ? result.dates : null;
    },
    timetableImportedAt: async (uai) => (await currentMeta(uai))?.importedAt ?? null,
    timetableVersion: async (uai) => {
      const meta = await currentMeta(uai);
      return meta ? `${meta.version}|${meta.sha256}` : null;
    },
    overrides: bridge.overrides,
    events: bridge.events,
    bookingFeeds: () => bridge.bookingFeeds.status(),
    telemetry: { repository: store.telemetry, settings: parts.comfortSettings ?? DEFAULT_COMFORT_SETTINGS },
  };
}

type Meta = Awaited<ReturnType<Store['timetables']['currentMeta']>>;

/**
 * `currentMeta` of the schools asked within one turn of the event loop, read in one query: the
 * overview asks for every school's current version four times a view (dates, import date,
 * zone rooms, unmapped rooms), 1,400 queries for a region, 0.6–1.8 s on a loaded 2-core machine;
 * batched, four queries. Nothing is kept between turns: an import is seen at the next view.
 */
export function batchedCurrentMeta(store: {
  timetables: Pick<Store['timetables'], 'currentMetas'>;
}): (uai: string) => Promise<Meta> {
  let pending: Map<string, Array<{ resolve(meta: Meta): void; reject(error: unknown): void }>> | null = null;
  return (uai) =>
    new Promise<Meta>((resolve, reject) => {
      if (pending === null) {
        const batch = new Map<string, Array<{ resolve(meta: Meta): void; reject(error: unknown): void }>>();
        pending = batch;
        setImmediate(() => {
          pending = null;
          store.timetables.currentMetas([...batch.keys()]).then(
            (metas) => {
              for (const [school, waiting] of batch)
                for (const w of waiting) w.resolve(metas.get(school) ?? null);
            },
            (error: unknown) => {
              for (const waiting of batch.values()) for (const w of waiting) w.reject(error);
            },
          );
        });
      }
      const waiting = pending.get(uai) ?? [];
      waiting.push({ resolve, reject });
      pending.set(uai, waiting);
    });
}
