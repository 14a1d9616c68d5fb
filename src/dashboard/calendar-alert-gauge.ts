/**
 * The calendar alerts and the zone-room alert of every school devices/ declares, kept for
 * `/metrics` (`scope_energie_school_alert{uai,kind}`, issue 20).
 *
 * prom-client reads a gauge in a synchronous `collect`, while the alerts need the store (the
 * current version's meta) and the timetable's school year and grid, which the service reads in
 * the view worker (`timetableDates`, kept per stored version). So the gauge shows the values of the
 * last refresh: one at start, one every REFRESH_MS, and one after each import (the service calls
 * `refresh()`), so a new import clears its alerts at once. A timer rather than a refresh per
 * scrape: the answer changes only with the local date, an import or a reload, and a scrape then
 * never waits on the store or the worker. Refreshes never overlap: one asked while another runs
 * waits for it and runs once more.
 */
import type { LoadedDevices } from '../devices/load.js';
import type { Part } from '../lifecycle/part.js';
import {
  SCHOOL_GAUGE_ALERT_CODES,
  type SchoolAlert,
  schoolCalendarAlerts,
  schoolZoneRoomAlerts,
} from './alerts.js';
import type { DashboardDeps } from './deps.js';

/** A minute: an alert follows a date change or a reload within one default Prometheus scrape. */
export const CALENDAR_ALERT_REFRESH_MS = 60_000;

export interface CalendarAlertSample {
  uai: string;
  kind: (typeof SCHOOL_GAUGE_ALERT_CODES)[number];
  /** 1 while the alert holds, 0 otherwise. */
  value: 0 | 1;
}

export interface CalendarAlertGaugeOptions {
  deps: Pick<DashboardDeps, 'clock' | 'calendars' | 'timetable' | 'timetableDates' | 'timetableImportedAt'>;
  /** The schools of this instance's devices/ (read at each refresh: a reload is followed). */
  schools: () => Iterable<LoadedDevices>;
  /** A school whose alerts could not be read keeps its last values; the error is told here. */
  onError?: (error: unknown, uai: string) => void;
}

export class CalendarAlertGauge implements Part {
  private samples: CalendarAlertSample[] = [];
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: CalendarAlertGaugeOptions) {}

  /** The values of the last refresh, for a synchronous collect. */
  values(): readonly CalendarAlertSample[] {
    return this.samples;
  }

  /** Recomputes every school; resolves when values() shows a state read after this call. */
  refresh(): Promise<void> {
    if (this.running) {
      const after = () => this.refresh();
      return this.running.then(after, after);
    }
    this.running = this.compute().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  start(intervalMs = CALENDAR_ALERT_REFRESH_MS): void {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async compute(): Promise<void> {
    const previous = new Map<string, CalendarAlertSample[]>();
    for (const sample of this.samples)
      previous.set(sample.uai, [...(previous.get(sample.uai) ?? []), sample]);
    const next: CalendarAlertSample[] = [];
    for (const devices of this.options.schools()) {
      const uai = devices.value.school.uai;
      let alerts: SchoolAlert[];
      try {
        alerts = [
          ...(await schoolCalendarAlerts(this.options.deps, devices)),
          ...(await schoolZoneRoomAlerts(this.options.deps, devices)),
        ];
      } catch (error) {
        this.options.onError?.(error, uai);
        next.push(...(previous.get(uai) ?? []));
        continue;
      }
      const held = new Set(alerts.map((alert) => alert.code));
      for (const kind of SCHOOL_GAUGE_ALERT_CODES) next.push({ uai, kind, value: held.has(kind) ? 1 : 0 });
    }
    this.samples = next;
  }
}
