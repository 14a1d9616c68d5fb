/**
 * VUE's devices come from the site holder (issue 14): the page shows the devices the bridge plans
 * with, reads no file per view, and shows an edit the holder refused as an invalid file with its
 * problems until a valid edit is reloaded.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { siteDevicesSource } from '../../../src/scope/vue/devices-source.js';
import { devicesStateOf } from '../../../src/scope/vue/view-task.js';
import { SiteHolder } from '../../../src/site/site-holder.js';
import { copySite, DEMO_UAI } from '../../bridge/bridge-fixtures.js';

describe('VUE devices from the site holder', () => {
  it('gives the held file, ignores edits until a reload, and shows a refused edit as invalid', () => {
    const dirs = copySite();
    const site = new SiteHolder(dirs);
    const devicesOf = siteDevicesSource(site);
    const file = join(dirs.devicesDir, `${DEMO_UAI}.yaml`);
    const held = readFileSync(file, 'utf8');

    expect(devicesOf(DEMO_UAI)).toEqual({ file: `devices/${DEMO_UAI}.yaml`, text: held });
    expect(devicesStateOf(devicesOf(DEMO_UAI)).status).toBe('loaded');
    expect(devicesOf('0670000A')).toEqual({ file: 'devices/0670000A.yaml', absent: true });

    // Edited on disk, not reloaded: still the holder's (no read per view).
    writeFileSync(file, `${held}\nzones: not-a-list\n`);
    expect(devicesOf(DEMO_UAI)).toEqual({ file: `devices/${DEMO_UAI}.yaml`, text: held });

    // Reloaded and refused: the bridge keeps the last valid file, VUE shows the problems.
    expect(site.reload().ok).toBe(false);
    const refused = devicesStateOf(devicesOf(DEMO_UAI));
    expect(refused.status).toBe('invalid');
    expect(refused.status === 'invalid' && refused.problems[0]?.where).toMatch(
      new RegExp(`${DEMO_UAI}\\.yaml`),
    );
    expect(site.current.devices.get(DEMO_UAI)).toBeDefined();

    // Fixed and reloaded: the new text.
    const fixed = `${held}\n# salle 12 rénovée\n`;
    writeFileSync(file, fixed);
    expect(site.reload().ok).toBe(true);
    expect(devicesOf(DEMO_UAI)).toEqual({ file: `devices/${DEMO_UAI}.yaml`, text: fixed });
  });
});
