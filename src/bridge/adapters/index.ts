/**
 * The adapters by name, and the zone targets of the loaded devices/ files: each zone's adapter
 * (its own, else its gateway's) with its options checked at load time.
 */
import { formatWhere } from '../../config/yaml-file.js';
import type { LoadedDevices } from '../../devices/load.js';
import type { AdapterName } from '../../devices/schema.js';
import { InputError, type Problem } from '../../domain/problems.js';
import type { ExtraAcl } from '../../mqtt/acl.js';
import type { AdapterContext, BridgeAdapter, ZoneTarget } from './adapter.js';
import { homeAssistantAdapter } from './homeassistant.js';
import { nativeAdapter } from './native.js';
import { templateAdapter } from './template.js';
import { z2mBaseTopicConflicts, zigbee2mqttAdapter } from './zigbee2mqtt.js';

export type { AdapterContext, AdapterMessage, BridgeAdapter, ZoneTarget } from './adapter.js';

export const ADAPTERS_BY_NAME: Readonly<Record<AdapterName, BridgeAdapter>> = {
  native: nativeAdapter,
  zigbee2mqtt: zigbee2mqttAdapter,
  homeassistant: homeAssistantAdapter,
  template: templateAdapter,
};

/** Every zone of every file as a target; `InputError` listing every bad option with its file:line. */
export function zoneTargetsOf(files: readonly LoadedDevices[]): ZoneTarget[] {
  const targets: ZoneTarget[] = [];
  const problems: Problem[] = [];
  const origins: { loaded: LoadedDevices; index: number }[] = [];
  for (const loaded of files) {
    const file = loaded.value;
    const gateways = new Map(file.gateways.map((g) => [g.id, g]));
    file.zones.forEach((zone, index) => {
      const target: ZoneTarget = {
        uai: file.school.uai,
        zone: zone.id,
        name: zone.name,
        school: file.school.name,
        gateway: zone.gateway,
        adapter: zone.adapter ?? gateways.get(zone.gateway)?.adapter ?? 'native',
        functions: zone.functions,
        options: zone.adapter_options ?? {},
        ...(zone.device_models ? { models: zone.device_models } : {}),
      };
      for (const problem of ADAPTERS_BY_NAME[target.adapter].check(target)) {
        const path = ['zones', index, 'adapter_options', problem.option];
        const known = zone.adapter_options?.[problem.option] !== undefined;
        const linePath = known ? path : ['zones', index];
        problems.push({
          code: 'bad-adapter-options',
          message: `${target.adapter} adapter: ${problem.message}`,
          where: formatWhere(loaded.file, loaded.lineOf(linePath), undefined, path),
        });
      }
      targets.push(target);
      origins.push({ loaded, index });
    });
  }
  for (const [at, message] of z2mBaseTopicConflicts(targets)) {
    const { loaded, index } = origins[at]!;
    const path = ['zones', index, 'adapter_options', 'base_topic'];
    const given = loaded.value.zones[index]?.adapter_options?.['base_topic'] !== undefined;
    problems.push({
      code: 'bad-adapter-options',
      message: `zigbee2mqtt adapter: ${message}`,
      where: formatWhere(loaded.file, loaded.lineOf(given ? path : ['zones', index]), undefined, path),
    });
  }
  if (problems.length > 0) throw new InputError(problems);
  return targets;
}

/**
 * Topics outside the contract the bridge needs on the broker for these zones (pass as
 * `bridgeCredentials.extraAcl` of the embedded broker, or mirror in an external broker's ACL).
 */
export function bridgeExtraAcl(targets: readonly ZoneTarget[]): Required<ExtraAcl> {
  const publish = new Set<string>();
  const subscribe = new Set<string>();
  for (const target of targets) {
    const acl = ADAPTERS_BY_NAME[target.adapter].bridgeAcl(target);
    for (const filter of acl.publish) publish.add(filter);
    for (const filter of acl.subscribe) subscribe.add(filter);
  }
  return { publish: [...publish], subscribe: [...subscribe] };
}

/** What one gateway needs beyond the contract (its `GatewayCredentials.extraAcl`). */
export function gatewayExtraAcl(
  targets: readonly ZoneTarget[],
  uai: string,
  gateway: string,
  context: AdapterContext,
): Required<ExtraAcl> {
  const publish = new Set<string>();
  const subscribe = new Set<string>();
  for (const target of targets) {
    if (target.uai !== uai || target.gateway !== gateway) continue;
    const acl = ADAPTERS_BY_NAME[target.adapter].gatewayAcl(target, context);
    for (const filter of acl.publish) publish.add(filter);
    for (const filter of acl.subscribe) subscribe.add(filter);
  }
  return { publish: [...publish], subscribe: [...subscribe] };
}
