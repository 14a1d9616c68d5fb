/**
 * Calendar-date arithmetic on `YYYY-MM-DD` strings. No time zone is involved: UTC midnight is
 * only a carrier for the date, never an instant of the school (those come from src/calendar).
 */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** ISO weekday, 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}

/** The Monday of the week that contains `date`. */
export function mondayOf(date: string): string {
  return addDays(date, 1 - isoWeekday(date));
}
