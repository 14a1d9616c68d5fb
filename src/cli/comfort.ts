import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { localDaysRange } from '../bridge/planning.js';
import { systemClock } from '../domain/clock.js';
import { InputError } from '../domain/problems.js';
import { SQLITE_FILE_NAME } from '../store/store.js';
import {
  type ComfortBody,
  comfortPeriod,
  comfortReport,
  heatedZoneOf,
  heatedZones,
  MAX_COMFORT_DAYS,
} from '../telemetry/comfort-report.js';
import { comfortSettingsOf } from '../telemetry/telemetry-service.js';
import { type Command, EXIT, stringOption, writeJson } from './command.js';
import { openCommandStore } from './context.js';
import { loadOfflineSchool, planOffline } from './offline-school.js';

export const comfortCommand: Command = {
  name: 'comfort',
  summary:
    "a school's comfort report from stored telemetry: cold, overheated and unmeasured occupied minutes",
  help: `Usage: scope-energie comfort --uai UAI --from YYYY-MM-DD --to YYYY-MM-DD [--zone ZONE] [--json]

The comfort report of GET /api/comfort (docs/telemetry.md, "Comfort"), function heating, from the
store's telemetry: per zone the occupied, measured, cold, overheated and unmeasured minutes and
the occupancy starts (instant, target, measured temperature). Hours the service has aggregated
come from the hourly aggregates; later ones from the raw samples and the plan, made as
\`scope-energie plan\` makes it. Figures run up to now for a period not over yet. With --json, the
body of the API.

Options:
  --uai UAI                the school (a devices file must exist for it)
  --from DATE, --to DATE   first and last local dates, at most ${MAX_COMFORT_DAYS} days
  --zone ZONE              one heated zone only`,
  options: {
    uai: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    zone: { type: 'string' },
  },
  async run(args, io) {
    const school = loadOfflineSchool(args, io);
    const { devices, timezone, context } = school;
    const period = comfortPeriod(stringOption(args, 'from'), stringOption(args, 'to'), timezone, {
      from: '--from',
      to: '--to',
    });
    const zone = heatedZoneOf(devices, stringOption(args, 'zone'), '--zone');
    const hasStore =
      context.config.storage.database_url || existsSync(join(context.dataDir, SQLITE_FILE_NAME));
    // Telemetry lives in the service's store: without one there is nothing to report, and an
    // offline command must not create an empty database.
    if (!hasStore)
      throw InputError.of(
        'no-store',
        `no store in ${context.dataDir}: telemetry is recorded by the running service`,
        '--data',
      );
    const store = await openCommandStore(context);
    try {
      const body = await comfortReport({
        repository: store.telemetry,
        planFor: async (_uai, date, days) => ({
          plan: await planOffline(school, localDaysRange(date, days, timezone)),
        }),
        settings: comfortSettingsOf(context.config),
        clock: systemClock,
        school: { uai: school.uai, name: devices.value.school.name, timezone },
        zones: heatedZones(devices),
        period,
        ...(zone === undefined ? {} : { zone }),
      });
      if (args.values['json'] === true) writeJson(io, body);
      else io.stdout.write(comfortTable(body));
    } finally {
      await store.close();
    }
    return EXIT.ok;
  },
};

/** One line per zone for people: minutes, starts, temperatures. */
export function comfortTable(body: ComfortBody): string {
  const m = (n: number) => n.toFixed(2).padStart(11);
  const c = (n: number | null) => (n === null ? '—' : n.toFixed(1)).padStart(7);
  const lines = [
    `${body.uai}  ${body.name}`,
    `comfort (heating) ${body.from} to ${body.to} (${body.timezone}), computed until ${body.computed_until}`,
    `cold: below target − ${body.definitions.cold_tolerance_c} °C; overheated: above ${body.definitions.overheat_cap_c} + ${body.definitions.overheat_tolerance_c} °C; a measurement holds ${body.definitions.hold_minutes} min`,
    '',
    `${'zone'.padEnd(20)}${'occupied'.padStart(11)}${'measured'.padStart(11)}${'cold'.padStart(11)}${'overheated'.padStart(11)}${'unmeasured'.padStart(11)}${'starts'.padStart(8)}${'cold'.padStart(6)}${'min'.padStart(7)}${'mean'.padStart(7)}${'max'.padStart(7)}`,
  ];
  for (const z of body.zones) {
    lines.push(
      `${z.zone.padEnd(20)}${m(z.occupied_minutes)}${m(z.measured_minutes)}${m(z.cold_minutes)}${m(
        z.overheated_minutes,
      )}${m(z.unmeasured_minutes)}${String(z.starts).padStart(8)}${String(z.cold_starts).padStart(6)}${c(
        z.min_c,
      )}${c(z.mean_c)}${c(z.max_c)}`,
    );
  }
  lines.push('', 'minutes of occupied time; temperatures in °C');
  return `${lines.join('\n')}\n`;
}
