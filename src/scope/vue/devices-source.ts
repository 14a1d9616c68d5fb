/**
 * Reads `devices/{uai}.yaml` for the data-quality panel, at each page view: the file is edited
 * by hand and VUE is where one checks the edit. A missing or refused file is a finding, not an error.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDevicesFile } from '../../devices/load.js';
import { isInputError } from '../../domain/problems.js';
import type { DevicesState } from './data-quality.js';

export async function readDevicesState(devicesDir: string, uai: string): Promise<DevicesState> {
  const shown = `devices/${uai}.yaml`;
  for (const name of [`${uai}.yaml`, `${uai}.yml`]) {
    let text: string;
    try {
      text = await readFile(join(devicesDir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    try {
      return { status: 'loaded', devices: loadDevicesFile(text, `devices/${name}`) };
    } catch (error) {
      if (isInputError(error))
        return { status: 'invalid', file: `devices/${name}`, problems: error.problems };
      throw error;
    }
  }
  return { status: 'absent', file: shown };
}
