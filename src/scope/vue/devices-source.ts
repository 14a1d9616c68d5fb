/**
 * Reads `devices/{uai}.yaml` for the data-quality panel, at each page view: the file is edited
 * by hand and VUE is where one checks the edit. A missing or refused file is a finding, not an error.
 * The text is read here; parsing it is part of the view task (view-task.ts), off the event loop.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DevicesState } from './data-quality.js';
import { type DevicesText, devicesStateOf } from './view-task.js';

export async function readDevicesText(devicesDir: string, uai: string): Promise<DevicesText> {
  for (const name of [`${uai}.yaml`, `${uai}.yml`]) {
    try {
      return { file: `devices/${name}`, text: await readFile(join(devicesDir, name), 'utf8') };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
  }
  return { file: `devices/${uai}.yaml`, absent: true };
}

export async function readDevicesState(devicesDir: string, uai: string): Promise<DevicesState> {
  return devicesStateOf(await readDevicesText(devicesDir, uai));
}
