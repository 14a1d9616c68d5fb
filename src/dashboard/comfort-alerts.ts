/**
 * Comfort alerts of a school (issue 16, docs/dashboard.md "Alerts"): over yesterday and today
 * (local dates, up to now), a zone with a cold start (the measurement in force when the first
 * lesson after a break began was below its target − the cold tolerance) or with overheated
 * occupied time (above the legal cap + the overheat tolerance) for at least
 * `OVERHEAT_ALERT_MINUTES`. The figures are the comfort report's (docs/telemetry.md, "Comfort").
 */

import { localDate } from '../bridge/school-plan.js';
import { SortieError } from '../bridge/sortie-client.js';
import type { LoadedDevices } from '../devices/load.js';
import { addDays } from '../domain/dates.js';
import type { comfortReport } from '../telemetry/comfort-report.js';
import { comfortOf } from './dashboard-state.js';
import type { DashboardDeps } from './deps.js';
import { formatCelsius, formatNumber, localTime, shortDay } from './labels.js';

/** A quarter of an hour over the cap: one missed report (5 min) or a sunny minute is not an alert. */
export const OVERHEAT_ALERT_MINUTES = 15;

export interface ComfortAlert {
  code: 'demarrage-froid' | 'surchauffe';
  message: string;
}

export async function comfortAlerts(
  deps: Pick<DashboardDeps, 'telemetry' | 'clock' | 'planFor'>,
  devices: LoadedDevices,
): Promise<ComfortAlert[]> {
  const telemetry = deps.telemetry;
  if (!telemetry) return [];
  const school = devices.value.school;
  const today = localDate(deps.clock.now(), school.timezone);
  let body: Awaited<ReturnType<typeof comfortReport>>;
  try {
    const report = await comfortOf(deps, devices, addDays(today, -1), today, {
      from: 'hier',
      to: 'aujourdhui',
    });
    if (!report) return [];
    body = report;
  } catch (error) {
    // No plan (the hub unreachable beyond the data held): the sync alert says it already.
    if (error instanceof SortieError) return [];
    throw error;
  }
  const alerts: ComfortAlert[] = [];
  for (const zone of body.zones) {
    const cold = zone.occupancy_starts.filter((s) => s.cold);
    if (cold.length > 0) {
      const when = cold
        .map((s) => {
          const at = Date.parse(s.at);
          return `${shortDay(at, school.timezone)} à ${localTime(at, school.timezone)} (${formatCelsius(
            s.measured_c as number,
          )} pour ${formatCelsius(s.target_c as number)})`;
        })
        .join(', ');
      alerts.push({
        code: 'demarrage-froid',
        message: `${zone.name} : ${cold.length === 1 ? 'démarrage froid' : `${cold.length} démarrages froids`} ${when}.`,
      });
    }
    if (zone.overheated_minutes >= OVERHEAT_ALERT_MINUTES) {
      alerts.push({
        code: 'surchauffe',
        message: `${zone.name} : ${formatNumber(zone.overheated_minutes, 0)} min de cours au-dessus de ${formatCelsius(
          body.definitions.overheat_cap_c + body.definitions.overheat_tolerance_c,
        )} depuis hier (maximum ${zone.max_c === null ? '—' : formatCelsius(zone.max_c)}).`,
      });
    }
  }
  return alerts;
}
