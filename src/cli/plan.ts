import { DateTime } from 'luxon';
import { localDaysRange, MAX_PLAN_DAYS, type PlanDayBody, planDayBody } from '../bridge/planning.js';
import { InputError } from '../domain/problems.js';
import { type Command, EXIT, requireOption, stringOption, writeJson } from './command.js';
import { loadOfflineSchool, planOffline } from './offline-school.js';

export const planCommand: Command = {
  name: 'plan',
  summary: "print a school's plan per zone for local dates (offline, from the store)",
  help: `Usage: scope-energie plan --uai UAI --date YYYY-MM-DD [--days N] [--json]

Plans the school as the bridge would, without the running service: its devices/{uai}.yaml, the
rules in rules/, the current timetable version in the store (expanded with the school calendar)
and the overrides stored there. Without a timetable the school plans on the fallback week. Prints
one table per zone (from–to in the school's local time, mode, setpoint, reason, rule), or with
--json the body of GET /api/etablissements/{uai}/plan.

Options:
  --uai UAI        the school (a devices file must exist for it)
  --date DATE      first local date, YYYY-MM-DD
  --days N         number of days, 1 to ${MAX_PLAN_DAYS} (default 1)`,
  options: { uai: { type: 'string' }, date: { type: 'string' }, days: { type: 'string' } },
  async run(args, io) {
    const daysText = stringOption(args, 'days') ?? '1';
    if (!/^\d{1,3}$/.test(daysText)) {
      throw InputError.of(
        'bad-days',
        `--days must be a whole number, not "${daysText}"`,
        '--days',
        'malformed',
      );
    }
    const school = loadOfflineSchool(args, io);
    const date = requireOption(args, 'date');
    const { timezone } = school;
    const horizon = localDaysRange(date, Number(daysText), timezone);
    const plan = await planOffline(school, horizon);
    const body = planDayBody({ plan, date, days: Number(daysText), timezone });
    if (args.values['json'] === true) writeJson(io, body);
    else io.stdout.write(planTable(body, school.devices.value.school.name, horizon.to));
    return EXIT.ok;
  },
};

/** One table per zone and function, times on the school's wall clock. */
export function planTable(body: PlanDayBody, schoolName: string, rangeEnd: number): string {
  const local = (iso: string) => {
    const ms = Date.parse(iso);
    const time = DateTime.fromMillis(ms, { zone: body.timezone });
    if (body.days === 1) return ms === rangeEnd ? '24:00' : time.toFormat('HH:mm');
    return time.toFormat('yyyy-MM-dd HH:mm');
  };
  const lines = [
    `${body.uai}  ${schoolName}`,
    `plan of ${body.date}${body.days > 1 ? ` (${body.days} days)` : ''}, ${body.timezone}; rules ${body.rules_version}, ${
      body.timetable_version === null ? 'no timetable' : `timetable version ${body.timetable_version}`
    }; hash ${body.hash.slice(0, 12)}`,
  ];
  if (body.fallback) lines.push('FALLBACK WEEK: no timetable was ever received for this school');
  for (const zone of body.zones) {
    lines.push('', `${zone.zone} — ${zone.name}`);
    let fn: string | undefined;
    for (const s of zone.segments) {
      if (s.function !== fn) {
        fn = s.function;
        lines.push(`  ${fn}`);
      }
      const span = `${local(s.from)}–${local(s.to)}`;
      const setpoint = s.setpoint_c === undefined ? '' : `${s.setpoint_c} °C`;
      const gap = s.reason.gap_hours === undefined ? '' : ` (${s.reason.gap_hours} h)`;
      lines.push(
        `    ${span.padEnd(body.days === 1 ? 12 : 34)}${s.mode.padEnd(10)}${setpoint.padEnd(7)}${`${s.reason.kind}${gap}`.padEnd(22)}${s.reason.rule}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
