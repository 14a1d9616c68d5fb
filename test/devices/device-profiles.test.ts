import { describe, expect, it } from 'vitest';
import { zoneTargetsOf } from '../../src/bridge/adapters/index.js';
import {
  loadDeviceProfiles,
  profileCommand,
  shippedDeviceProfiles,
} from '../../src/devices/device-profiles.js';
import { loadDevicesFile } from '../../src/devices/load.js';
import { InputError } from '../../src/domain/problems.js';

const HASH = 'scrypt$16384$8$1$obW5g1k0lAIrmBU9XnF7iw==$7X+3a6eWlKzP6EV73ZMa4wQOBnK/reGSHsYH4ntfiS0=';
const FILE = 'devices/0670999X.yaml';

/** A zigbee2mqtt zone; `extra` lines go under the zone (line 16 on). */
function devicesYaml(...extra: string[]): string {
  return [
    'school:',
    '  uai: "0670999X"',
    '  name: Test',
    'gateways:',
    '  - id: gw-z2m',
    '    username: gw-z2m',
    `    password_hash: "${HASH}"`,
    '    adapter: zigbee2mqtt',
    'zones:',
    '  - id: salle-b101',
    '    name: Salle B101',
    '    gateway: gw-z2m',
    '    rooms: [B101]',
    '    functions: [heating, lighting]',
    '    category: classroom',
    '    heating_type: hydronic',
    ...extra,
    '',
  ].join('\n');
}

function problemsOf(load: () => unknown): InputError['problems'] {
  try {
    load();
  } catch (error) {
    if (error instanceof InputError) return error.problems;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('config/device-profiles.yaml', () => {
  it('loads, and every heating profile expresses every contract mode', () => {
    const profiles = shippedDeviceProfiles();
    expect(profiles.size).toBeGreaterThanOrEqual(11);
    for (const [model, profile] of profiles) {
      if (!profile.functions.includes('heating')) continue;
      for (const mode of ['comfort', 'comfort_1', 'comfort_2', 'eco', 'frost', 'off']) {
        const payload = profileCommand(profile, 'heating', { mode, setpoint_c: 17 });
        expect([model, mode, Object.keys(payload).length > 0]).toEqual([model, mode, true]);
      }
    }
  });

  it('refuses a profile that leaves a mode unreachable, naming the line', () => {
    const text = [
      'profiles:',
      '  valve-x:',
      '    vendor: X',
      '    description: A valve without off',
      '    functions: [heating]',
      '    fingerprint: { model_id: X1 }',
      '    setpoint: { property: occupied_heating_setpoint, min_c: 5, max_c: 30, step_c: 0.5 }',
      '',
    ].join('\n');
    expect(problemsOf(() => loadDeviceProfiles(text, 'config/device-profiles.yaml'))).toEqual([
      expect.objectContaining({
        message: 'mode off reaches the device neither by a mode value nor by off_setpoint_c',
        where: expect.stringMatching(/^config\/device-profiles\.yaml:3/),
      }),
    ]);
  });

  it('rounds a setpoint to the step inside the range, and sends off_setpoint_c for a valve without off', () => {
    const danfoss = shippedDeviceProfiles().get('014G2461')!;
    expect(profileCommand(danfoss, 'heating', { mode: 'comfort', setpoint_c: 19.2 })).toEqual({
      occupied_heating_setpoint_scheduled: 19,
    });
    expect(profileCommand(danfoss, 'heating', { mode: 'frost', setpoint_c: 3 })).toEqual({
      occupied_heating_setpoint_scheduled: 5,
    });
    expect(profileCommand(danfoss, 'heating', { mode: 'off' })).toEqual({
      occupied_heating_setpoint_scheduled: 5,
    });
  });
});

describe('a zone naming its device models', () => {
  it('loads a known model per function and carries it to the adapter target', () => {
    const loaded = loadDevicesFile(
      devicesYaml(
        '    device_models: { heating: "014G2461", lighting: ZBMINI }',
        '    adapter_options: { heating_device: vanne-b101, lighting_device: relais-b101 }',
      ),
      FILE,
    );
    expect(zoneTargetsOf([loaded])[0]?.models).toEqual({ heating: '014G2461', lighting: 'ZBMINI' });
  });

  it('refuses a model the catalogue lacks, or one that cannot drive the function, naming file and line', () => {
    expect(
      problemsOf(() =>
        loadDevicesFile(
          devicesYaml('    device_models:', '      heating: "014G9999"', '      lighting: SRTS-A01'),
          FILE,
        ),
      ),
    ).toEqual([
      {
        code: 'unknown-device-model',
        message: expect.stringMatching(
          /^unknown device model "014G9999": not in config\/device-profiles\.yaml \(known: /,
        ),
        where: 'devices/0670999X.yaml:18 (zones[0].device_models.heating)',
      },
      {
        code: 'unknown-device-model',
        message: 'device model "SRTS-A01" (Aqara Smart radiator thermostat E1) drives heating, not lighting',
        where: 'devices/0670999X.yaml:19 (zones[0].device_models.lighting)',
      },
    ]);
  });

  it('refuses a model for a function the zone does not drive', () => {
    expect(
      problemsOf(() => loadDevicesFile(devicesYaml('    device_models: { ventilation: ZBMINI }'), FILE)),
    ).toEqual([
      expect.objectContaining({
        message:
          'a device model for ventilation, which the zone does not drive (functions: heating, lighting)',
      }),
    ]);
  });

  it('refuses options that would describe a device whose model already does', () => {
    const loaded = loadDevicesFile(
      devicesYaml(
        '    device_models: { heating: TS0601_thermostat }',
        '    adapter_options:',
        '      device: vanne-b101',
        '      heating_property: system_mode',
        '      lighting_property: state',
      ),
      FILE,
    );
    expect(problemsOf(() => zoneTargetsOf([loaded]))).toEqual([
      {
        code: 'bad-adapter-options',
        message:
          'zigbee2mqtt adapter: heating has device model "TS0601_thermostat": its profile (config/device-profiles.yaml) decides the payload; remove this option or add a profile',
        where: 'devices/0670999X.yaml:20 (zones[0].adapter_options.heating_property)',
      },
    ]);
  });
});
