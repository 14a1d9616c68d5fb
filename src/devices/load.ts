/**
 * Loads `devices/{uai}.yaml`: parse, validate, and refuse a file whose name says another school.
 * Pure: the caller reads the file and passes its text.
 */
import { formatWhere, parseYamlFile } from '../config/yaml-file.js';
import { InputError } from '../domain/problems.js';
import { type DeviceProfiles, deviceModelProblem, shippedDeviceProfiles } from './device-profiles.js';
import { type DevicesFile, devicesFileSchema, type ZoneFunction } from './schema.js';

export interface LoadedDevices {
  /** The file name as given, used in every problem's `where`. */
  file: string;
  value: DevicesFile;
  /** Line of a field path (`['zones', 2, 'rooms']`), for cross-file checks. */
  lineOf(path: readonly (string | number)[]): number;
}

/**
 * Throws `InputError` naming `file:line:col (field)` for every problem; never returns half a file.
 * A zone's `device_models` must name models of the catalogue (`profiles`, default the shipped
 * config/device-profiles.yaml) that drive that function.
 */
export function loadDevicesFile(
  text: string,
  file: string,
  profiles: DeviceProfiles = shippedDeviceProfiles(),
): LoadedDevices {
  const parsed = parseYamlFile(text, file, devicesFileSchema);
  const modelProblems = parsed.value.zones.flatMap((zone, index) =>
    Object.entries(zone.device_models ?? {}).flatMap(([fn, model]) => {
      const problem = deviceModelProblem(profiles, model, fn as ZoneFunction);
      if (problem === null) return [];
      const path = ['zones', index, 'device_models', fn];
      return [
        {
          code: 'unknown-device-model',
          message: problem,
          where: formatWhere(file, parsed.lineOf(path), undefined, path),
        },
      ];
    }),
  );
  if (modelProblems.length > 0) throw new InputError(modelProblems);
  const named = /(\d{7}[A-Za-z])\.ya?ml$/.exec(file)?.[1]?.toUpperCase();
  if (named !== undefined && named !== parsed.value.school.uai.toUpperCase()) {
    throw InputError.of(
      'devices-uai-mismatch',
      `school.uai ${parsed.value.school.uai} does not match the file name (${named})`,
      formatWhere(file, parsed.lineOf(['school', 'uai']), undefined, ['school', 'uai']),
    );
  }
  return { file, value: parsed.value, lineOf: parsed.lineOf };
}
