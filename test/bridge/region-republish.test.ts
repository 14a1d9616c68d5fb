/**
 * A region's full republication (350 lycées × 40 zones × 3 functions: 84,000 retained QoS 1
 * messages) on Mosquitto with the machine's DEFAULT configuration, whose max_inflight_messages 20
 * and max_queued_messages 1000 silently drop QoS 1 messages past them (docs/performance.md,
 * "Brokers": 36 % lost unpaced). A wildcard subscriber must count every one: this proves the pacing.
 */
import { describe, expect, it } from 'vitest';
import { REGION, runRegion } from '../../bench/bridge-publish.js';
import { runAlone } from '../helpers/heavy-suite-lock.js';
import { external } from './dispatch-fixtures.js';

// A heavy suite (test/helpers/heavy-suites.ts): never alongside another one.
runAlone(import.meta.url);

if (!('url' in external)) console.info(`[test/bridge/region-republish] ${external.skipReason}`);

describe.skipIf(!('url' in external))('region republication on Mosquitto (MQTT_URL, default limits)', () => {
  it('delivers every desired and schedule message of 350 × 40 × 3 zone functions, twice', {
    timeout: 180_000,
  }, async () => {
    const run = await runRegion((external as { url: string }).url, {});
    try {
      expect(run.expected).toBe(REGION.schools * REGION.zones * 3 * 2);
      expect(run.expected).toBe(84_000);
      expect(run.counted).toBe(84_000);
      expect(run.distinctTopics).toBe(84_000);
      expect(run.countedAfterSecond).toBe(168_000);
    } finally {
      await run.clear();
    }
  });
});
