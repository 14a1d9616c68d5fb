import { afterAll, describe, expect, it } from 'vitest';
import {
  type DesiredContent,
  desiredContentHash,
  desiredContentOf,
} from '../../src/contract/desired-state.js';
import type { DesiredProposal } from '../../src/store/bridge-state-repository.js';
import { segment, UAI } from '../bridge/dispatch-fixtures.js';
import { storeBackends } from './backends.js';

const backends = await storeBackends();
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

function proposal(zone: string, mode: 'comfort' | 'eco', until: string, issuedAt: string): DesiredProposal {
  const content: DesiredContent = desiredContentOf(
    segment('heating', '2026-03-02T06:00:00.000Z', until, mode, { setpoint: mode === 'comfort' ? 19 : 16 }),
  );
  return {
    zone,
    function: 'heating',
    contentHash: desiredContentHash(content),
    content,
    issuedAt: Date.parse(issuedAt),
  };
}

describe.each(backends)('bridge state repository on $name', (backend) => {
  it('keeps the rev of unchanged content, increments it for new content, across reopen', async () => {
    const store = await backend.open();
    const first = await store.bridgeState.recordDesired(UAI, [
      proposal('z1', 'comfort', '2026-03-02T16:30:00.000Z', '2026-03-02T06:00:00.000Z'),
      proposal('z2', 'eco', '2026-03-02T16:30:00.000Z', '2026-03-02T06:00:00.000Z'),
    ]);
    expect(first.map((s) => [s.zone, s.rev, new Date(s.issuedAt).toISOString()])).toEqual([
      ['z1', 1, '2026-03-02T06:00:00.000Z'],
      ['z2', 1, '2026-03-02T06:00:00.000Z'],
    ]);

    const again = await store.bridgeState.recordDesired(UAI, [
      proposal('z1', 'comfort', '2026-03-02T16:30:00.000Z', '2026-03-02T07:00:00.000Z'),
      proposal('z2', 'comfort', '2026-03-02T16:30:00.000Z', '2026-03-02T07:00:00.000Z'),
    ]);
    expect(again.map((s) => [s.zone, s.rev, new Date(s.issuedAt).toISOString(), s.content.mode])).toEqual([
      ['z1', 1, '2026-03-02T06:00:00.000Z', 'comfort'],
      ['z2', 2, '2026-03-02T07:00:00.000Z', 'comfort'],
    ]);

    const reopened = await backend.open();
    const loaded = await reopened.bridgeState.loadDesired(UAI);
    expect(loaded.map((s) => [s.zone, s.rev, s.content.mode]).sort()).toEqual([
      ['z1', 1, 'comfort'],
      ['z2', 2, 'comfort'],
    ]);
    const third = await reopened.bridgeState.recordDesired(UAI, [
      proposal('z2', 'eco', '2026-03-03T06:00:00.000Z', '2026-03-02T16:30:00.000Z'),
    ]);
    expect(third.map((s) => s.rev)).toEqual([3]);
  });

  it('never hands out one rev twice when two instances record concurrently', async () => {
    const a = await backend.open();
    // Several instances share a database only on PostgreSQL (issue 8); SQLite has one writer
    // process, whose concurrent calls queue on its single connection.
    const b = backend.name === 'postgres' ? await backend.open() : a;
    const zone = `race-${backend.name}`;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? a : b).bridgeState.recordDesired(UAI, [
          proposal(
            zone,
            i % 2 === 0 ? 'comfort' : 'eco',
            `2026-03-0${2 + (i % 5)}T16:30:00.000Z`,
            '2026-03-02T06:00:00.000Z',
          ),
        ]),
      ),
    );
    const revs = results.map((r) => r[0]!.rev);
    const [stored] = await a.bridgeState.loadDesired(UAI).then((all) => all.filter((s) => s.zone === zone));
    // Every rev answered was stored at some point: they are distinct per content and never above the final one.
    expect(Math.max(...revs)).toBe(stored!.rev);
    const byHash = new Map<number, string>();
    for (const [i, r] of results.entries()) {
      const previous = byHash.get(r[0]!.rev);
      if (previous !== undefined) expect(previous).toBe(r[0]!.contentHash);
      byHash.set(r[0]!.rev, r[0]!.contentHash);
      expect(r[0]!.contentHash).toBe(
        proposal(
          zone,
          i % 2 === 0 ? 'comfort' : 'eco',
          `2026-03-0${2 + (i % 5)}T16:30:00.000Z`,
          '2026-03-02T06:00:00.000Z',
        ).contentHash,
      );
    }
  });

  it('stores reported states and gateway statuses', async () => {
    const store = await backend.open();
    const payload = {
      applied_rev: 3,
      mode: 'comfort' as const,
      setpoint_c: 19,
      measured_c: 18.6,
      source: 'bridge' as const,
      ts: '2026-03-02T06:30:04Z',
    };
    await store.bridgeState.saveReported({
      uai: UAI,
      zone: 'z1',
      function: 'heating',
      payload,
      receivedAt: Date.parse('2026-03-02T06:30:05.000Z'),
    });
    await store.bridgeState.saveReported({
      uai: UAI,
      zone: 'z1',
      function: 'heating',
      payload: { ...payload, applied_rev: 4 },
      receivedAt: Date.parse('2026-03-02T07:00:00.000Z'),
    });
    expect(await store.bridgeState.loadReported(UAI)).toEqual([
      {
        uai: UAI,
        zone: 'z1',
        function: 'heating',
        payload: { ...payload, applied_rev: 4 },
        receivedAt: Date.parse('2026-03-02T07:00:00.000Z'),
      },
    ]);
    await store.bridgeState.saveGatewayStatus({
      uai: UAI,
      gateway: 'gw-1',
      state: 'offline',
      lastSeen: Date.parse('2026-03-02T06:00:00.000Z'),
    });
    await store.bridgeState.saveGatewayStatus({
      uai: UAI,
      gateway: 'gw-1',
      lastSeen: Date.parse('2026-03-02T06:10:00.000Z'),
    });
    expect(await store.bridgeState.loadGatewayStatuses(UAI)).toEqual([
      { uai: UAI, gateway: 'gw-1', state: 'offline', lastSeen: Date.parse('2026-03-02T06:10:00.000Z') },
    ]);
  });
});
