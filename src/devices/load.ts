/**
 * Loads `devices/{uai}.yaml`: parse, validate, and refuse a file whose name says another school.
 * Pure: the caller reads the file and passes its text.
 */
import { formatWhere, parseYamlFile } from '../config/yaml-file.js';
import { InputError } from '../domain/problems.js';
import { type DevicesFile, devicesFileSchema } from './schema.js';

export interface LoadedDevices {
  /** The file name as given, used in every problem's `where`. */
  file: string;
  value: DevicesFile;
  /** Line of a field path (`['zones', 2, 'rooms']`), for cross-file checks. */
  lineOf(path: readonly (string | number)[]): number;
}

/** Throws `InputError` naming `file:line:col (field)` for every problem; never returns half a file. */
export function loadDevicesFile(text: string, file: string): LoadedDevices {
  const parsed = parseYamlFile(text, file, devicesFileSchema);
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
