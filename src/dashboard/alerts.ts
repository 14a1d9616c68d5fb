/**
 * A school's alerts on the dashboard (issue 7): the sync is stale or has no timetable, a gateway
 * is offline or never connected, a zone does not acknowledge its latest desired state, rooms of
 * the timetable belong to no zone (VUE's `salle-inconnue` finding, reused as is).
 */
import { DateTime } from 'luxon';
import type { GatewayReport } from '../bridge/gateway-tracker.js';
import { localDate } from '../bridge/school-plan.js';
import type { LoadedDevices } from '../devices/load.js';
import { mondayOf } from '../domain/dates.js';
import { type Finding, unknownRoomsFinding } from '../scope/vue/data-quality.js';
import type { DashboardDeps } from './deps.js';
import { formatNumber, functionLabel } from './labels.js';

export type AlertCode =
  | 'synchro-en-retard'
  | 'sans-emploi-du-temps'
  | 'passerelle-hors-ligne'
  | 'zone-sans-acquittement'
  | 'salles-non-affectees';

export interface SchoolAlert {
  code: AlertCode;
  message: string;
}

export type ZoneReportLike = GatewayReport['zones'][number];

export async function schoolAlerts(deps: DashboardDeps, devices: LoadedDevices): Promise<SchoolAlert[]> {
  const school = devices.value.school;
  const alerts: SchoolAlert[] = [];

  const sync = await deps.syncStatus(school.uai);
  if (sync.stale) {
    alerts.push({
      code: 'synchro-en-retard',
      message:
        sync.age_hours === null
          ? 'Synchronisation en retard : aucune réussite depuis le démarrage.'
          : `Synchronisation en retard : dernière réussite il y a ${formatNumber(sync.age_hours, 1)} h.`,
    });
  } else if (sync.state === 'no-timetable') {
    alerts.push({
      code: 'sans-emploi-du-temps',
      message: 'Aucun emploi du temps reçu : le plan suit la semaine type des règles.',
    });
  }

  for (const gateway of deps.gateways(school.uai)) {
    if (gateway.state !== 'online') {
      alerts.push({
        code: 'passerelle-hors-ligne',
        message:
          gateway.last_seen === null
            ? `Passerelle ${gateway.gateway} : jamais connectée.`
            : `Passerelle ${gateway.gateway} hors ligne depuis le ${DateTime.fromISO(gateway.last_seen, {
                zone: school.timezone,
              }).toFormat('dd/MM/yyyy HH:mm')}.`,
      });
    }
    for (const zone of gateway.zones) {
      if (!zone.lagging) continue;
      alerts.push({
        code: 'zone-sans-acquittement',
        message: `Zone ${zone.zone} (${functionLabel(zone.function).toLowerCase()}) n’acquitte pas : révision appliquée ${zone.applied_rev ?? 'aucune'}, dernière envoyée ${zone.latest_rev ?? '—'}.`,
      });
    }
  }

  const unknown = await unknownRooms(deps, devices);
  if (unknown) {
    for (const item of unknown.items) alerts.push({ code: 'salles-non-affectees', message: item.message });
    if (unknown.moreItems > 0) {
      alerts.push({
        code: 'salles-non-affectees',
        message: `Et ${unknown.moreItems} autre(s) salle(s) hors de toute zone.`,
      });
    }
  }
  return alerts;
}

/** Rooms of the timetable in no zone: only that finding of VUE's check, linear in the lessons. */
async function unknownRooms(deps: DashboardDeps, devices: LoadedDevices): Promise<Finding | null> {
  const school = devices.value.school;
  if (deps.unknownRooms) return deps.unknownRooms(school.uai, devices);
  const timetable = await deps.timetable(school.uai);
  if (!timetable) return null;
  return unknownRoomsFinding(
    timetable,
    devices.value.zones,
    devices.file,
    mondayOf(localDate(deps.clock.now(), school.timezone)),
  );
}
