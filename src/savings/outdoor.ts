/**
 * Outdoor temperature for the savings estimate: Météo-France monthly normals of the three Grand
 * Est stations shipped in data/outdoor-normals.json, a user-provided hourly series, or a constant
 * (what-if figures and tests). Pure: a function from an instant to °C.
 */
import { InputError } from '../domain/problems.js';
import { DEFAULT_DAILY_AMPLITUDE_K, type SnapshotOutdoor } from '../rules/optimum-start.js';
import normals from './data/outdoor-normals.json' with { type: 'json' };

export const OUTDOOR_STATIONS = ['strasbourg', 'nancy', 'reims'] as const;
export type OutdoorStation = (typeof OUTDOOR_STATIONS)[number];

const HOUR_MS = 3_600_000;

export type OutdoorTemperatures =
  /** Monthly mean of the station, applied to every hour of the month (local month of the school). */
  | { kind: 'monthly-normals'; station: OutdoorStation }
  /** One value per hour from `start` (epoch ms, a whole UTC hour): `values[i]` holds over [start + i h, start + (i + 1) h). */
  | { kind: 'hourly'; start: number; values: readonly number[] }
  | { kind: 'constant'; c: number };

/** The outdoor temperature over an hour, and a description of the source for the estimate's inputs. */
export interface OutdoorModel {
  /** °C over the hour starting at `instant` (the series' hour holding it). */
  at(instant: number): number;
  describe(): Record<string, unknown>;
}

export function isOutdoorStation(name: string): name is OutdoorStation {
  return (OUTDOOR_STATIONS as readonly string[]).includes(name);
}

/** The shipped station whose normals stand for a département (Grand Est only), or undefined. */
export function stationOfDepartement(departement: string): OutdoorStation | undefined {
  return OUTDOOR_STATIONS.find((station) => normals.stations[station].departements.includes(departement));
}

/** The twelve monthly means of a station, January first. */
export function monthlyNormals(station: OutdoorStation): readonly number[] {
  return normals.stations[station].monthly_mean_c;
}

/**
 * `period` is checked against an hourly series here: a series that does not cover it would leave
 * hours without a temperature, which must not be read as any value.
 */
export function outdoorModel(
  source: OutdoorTemperatures,
  timezone: string,
  period: { from: number; to: number },
): OutdoorModel {
  switch (source.kind) {
    case 'constant':
      return { at: () => source.c, describe: () => ({ kind: 'constant', c: source.c }) };
    case 'hourly': {
      if (source.start % HOUR_MS !== 0) {
        throw InputError.of(
          'outdoor-not-hourly',
          'the hourly series must start on a whole hour',
          'outdoor.start',
        );
      }
      const end = source.start + source.values.length * HOUR_MS;
      if (source.start > period.from || end < period.to) {
        throw InputError.of(
          'outdoor-short',
          `the hourly series covers ${new Date(source.start).toISOString()}–${new Date(end).toISOString()}, not the whole period`,
          'outdoor.values',
        );
      }
      return {
        at: (instant) => source.values[Math.floor((instant - source.start) / HOUR_MS)] as number,
        describe: () => ({
          kind: 'hourly',
          start: new Date(source.start).toISOString(),
          hours: source.values.length,
          source: 'user-provided hourly series',
        }),
      };
    }
    case 'monthly-normals': {
      const means = monthlyNormals(source.station);
      const month = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, month: 'numeric' });
      return {
        at: (instant) => means[Number(month.format(instant)) - 1] as number,
        describe: () => ({
          kind: 'monthly-normals',
          station: source.station,
          station_name: normals.stations[source.station].name,
          monthly_mean_c: means,
          source: normals.source,
          accuracy: normals.accuracy,
        }),
      };
    }
  }
}

/**
 * The outdoor source of optimum start (docs/optimum-start.md) for a school in `departement`: its
 * station's monthly normals with the default daily cycle; undefined outside the shipped stations.
 */
export function optimumStartOutdoorOf(departement: string | undefined): SnapshotOutdoor | undefined {
  const station = departement === undefined ? undefined : stationOfDepartement(departement);
  if (!station) return undefined;
  return {
    source: 'normals',
    station,
    monthly_mean_c: [...monthlyNormals(station)],
    daily_amplitude_k: DEFAULT_DAILY_AMPLITUDE_K,
  };
}
