/**
 * The dashboard's dependencies from the running service's parts (bridge, site, store,
 * calendars), so that the composition root only names them.
 */
import type { Bridge } from '../bridge/bridge.js';
import type { Clock } from '../domain/clock.js';
import type { CalendarSource } from '../site/calendars.js';
import type { SiteHolder } from '../site/site-holder.js';
import type { Store } from '../store/store.js';
import type { DashboardDeps } from './deps.js';

export function dashboardDepsOf(parts: {
  bridge: Bridge;
  site: SiteHolder;
  store: Store;
  calendars: CalendarSource;
  clock: Clock;
  publicUrl?: string | undefined;
}): Omit<DashboardDeps, 'authenticator'> {
  const { bridge, site, store } = parts;
  return {
    clock: parts.clock,
    publicUrl: parts.publicUrl,
    devices: () => site.current.devices,
    calendars: parts.calendars,
    planFor: (uai, date, days) => bridge.planning.planFor(uai, date, days),
    occupancy: (uai, dates) => bridge.sync.loadRange(uai, dates),
    syncStatus: (uai) => bridge.sync.currentStatus(uai),
    gateways: (uai) => bridge.tracker.report((visible) => visible === uai),
    timetable: async (uai) => (await store.timetables.current(uai))?.timetable ?? null,
    overrides: bridge.overrides,
  };
}
