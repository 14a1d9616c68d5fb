/**
 * The adaptive window (src/bridge/adaptive-window.ts) on a real broker with Mosquitto's DEFAULT
 * limits (max_inflight_messages 20, max_queued_messages 1000), started privately on an ephemeral
 * port: a small region goes out twice and a wildcard subscriber counts every message.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { privateMosquitto, runRegion } from '../../bench/bridge-publish.js';

const hasMosquitto = spawnSync('mosquitto', ['-h']).error === undefined;
if (!hasMosquitto) console.info('[test/bridge/adaptive-republish] skipped: no mosquitto binary');

describe.skipIf(!hasMosquitto)('adaptive window on a private Mosquitto (default limits)', () => {
  it('delivers every desired and schedule message of 12 × 10 × 3 zone functions, twice', {
    timeout: 60_000,
  }, async () => {
    const broker = await privateMosquitto(false);
    try {
      const run = await runRegion(
        broker.url,
        {},
        { schools: 12, zones: 10, adaptive: true, maxMessagesPerSecond: 0 },
      );
      expect(run.expected).toBe(720);
      expect(run.counted).toBe(720);
      expect(run.distinctTopics).toBe(720);
      expect(run.countedAfterSecond).toBe(1_440);
      const adaptive = run.adaptive;
      expect(adaptive?.backoffs).toBe(0);
      expect(adaptive?.window).toBeGreaterThanOrEqual(1);
      expect(adaptive?.window).toBeLessThanOrEqual(16);
      expect(adaptive?.baseRttMs).toBeGreaterThan(0);
    } finally {
      await broker.stop();
    }
  });
});
