import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiteHolder } from '../../src/site/site-holder.js';
import { REPO_ROOT, tempWorkDir } from '../helpers/cli.js';

function copySite() {
  const dir = tempWorkDir();
  cpSync(join(REPO_ROOT, 'devices'), join(dir, 'devices'), { recursive: true });
  cpSync(join(REPO_ROOT, 'rules'), join(dir, 'rules'), { recursive: true });
  return { dir, devicesDir: join(dir, 'devices'), rulesDir: join(dir, 'rules') };
}

describe('SiteHolder', () => {
  it('keeps the previous valid site when an edit breaks a file, and takes the fixed one', async () => {
    const { dir, devicesDir, rulesDir } = copySite();
    const holder = new SiteHolder({ devicesDir, rulesDir, baseDir: dir });
    const before = holder.current;
    expect(before.devices.get('0670999X')?.value.zones.length).toBeGreaterThan(3);

    const file = join(devicesDir, '0670999X.yaml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('rooms: [B101, B102, B103]', 'rooms: 12'));
    const broken = holder.reload();
    expect(broken.ok).toBe(false);
    if (!broken.ok) {
      expect(broken.problems[0]?.where).toMatch(/^devices\/0670999X\.yaml:\d+:\d+ \(zones\[0\]\.rooms\)$/);
    }
    expect(holder.current).toBe(before);

    writeFileSync(file, good.replace('rooms: [B101, B102, B103]', 'rooms: [B101, B102]'));
    const fixed = holder.reload();
    expect(fixed.ok).toBe(true);
    expect(holder.current.devices.get('0670999X')?.value.zones[0]?.rooms).toEqual(['B101', 'B102']);
  });

  it('refuses to start on invalid files', () => {
    const { dir, devicesDir, rulesDir } = copySite();
    const file = join(rulesDir, 'default.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('setpoint_c: 8', 'setpoint_c: 12'));
    expect(() => new SiteHolder({ devicesDir, rulesDir, baseDir: dir })).toThrow(/R241-27|8 °C|cap/);
  });
});
