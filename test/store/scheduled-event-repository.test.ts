/**
 * Scheduled events and booking-feed state in the store (migration 0015) on every backend: rows
 * round-trip as written, a feed's poll applies its additions, moves and removals with its state in
 * one transaction, and a feed key is unique per school and feed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduledEvent } from '../../src/events/scheduled-event.js';
import type { BookingFeedState } from '../../src/store/scheduled-event-repository.js';
import type { Store } from '../../src/store/store.js';
import { type StoreBackend, storeBackends } from './backends.js';

const backends: StoreBackend[] = await storeBackends();
const UAI = '0670999X';

function event(id: string, fields: Partial<ScheduledEvent> = {}): ScheduledEvent {
  return {
    id,
    uai: UAI,
    title: `Évènement ${id}`,
    start: '2026-03-19T18:00',
    end: '2026-03-19T21:00',
    target: { zone: 'cdi' },
    source: 'manual',
    created_by: 'manager',
    created_at: Date.parse('2026-03-01T10:00:00Z'),
    updated_by: 'manager',
    updated_at: Date.parse('2026-03-01T10:00:00Z'),
    ...fields,
  };
}

const state = (fields: Partial<BookingFeedState> = {}): BookingFeedState => ({
  uai: UAI,
  feedId: 'grr',
  etag: '"v1"',
  lastModified: null,
  bodySha256: 'a'.repeat(64),
  lastSuccessAt: Date.parse('2026-03-02T08:00:00Z'),
  lastAttemptAt: Date.parse('2026-03-02T08:00:00Z'),
  failingSince: null,
  lastError: null,
  ...fields,
});

describe.each(backends)('scheduled event repository on $name', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(() => backend.cleanup());

  it('stores an event with its recurrence and target as written, updates and deletes it', async () => {
    const weekly = event('m1', {
      recurrence: { weekdays: [4], until: '2026-04-09', except: ['2026-04-02'] },
      target: { rooms: ['CDI', 'B101'] },
    });
    await store.events.create(weekly);
    expect(await store.events.get('m1')).toEqual(weekly);
    expect(await store.events.count(UAI)).toBe(1);
    const { recurrence: _r, ...single } = weekly;
    expect(await store.events.update({ ...single, title: 'Changé' })).toBe(true);
    expect(await store.events.get('m1')).toEqual({ ...single, title: 'Changé' });
    expect(await store.events.delete('m1')).toEqual({ ...single, title: 'Changé' });
    expect(await store.events.delete('m1')).toBeNull();
    expect(await store.events.update(event('absent'))).toBe(false);
  });

  it('applies a feed poll and its state together; a feed key is unique', async () => {
    const feedEvent = (id: string, key: string, fields: Partial<ScheduledEvent> = {}) =>
      event(id, {
        source: 'feed',
        feed: { id: 'grr', key },
        created_by: 'booking-feed/grr',
        updated_by: 'booking-feed/grr',
        ...fields,
      });
    await store.events.applyFeed(
      { added: [feedEvent('f1', 'a'), feedEvent('f2', 'b')], changed: [], removed: [] },
      state(),
    );
    expect(await store.events.feedState(UAI, 'grr')).toEqual(state());
    await store.events.applyFeed(
      {
        added: [feedEvent('f3', 'c')],
        changed: [feedEvent('f1', 'a', { start: '2026-03-19T20:00' })],
        removed: ['f2'],
      },
      state({ etag: '"v2"' }),
    );
    const listed = await store.events.list({ uais: [UAI] });
    expect(listed.map((e) => [e.id, e.feed?.key, e.start])).toEqual([
      ['f3', 'c', '2026-03-19T18:00'],
      ['f1', 'a', '2026-03-19T20:00'],
    ]);
    expect((await store.events.feedStates()).map((s) => s.etag)).toEqual(['"v2"']);
    // A failed transaction leaves nothing: the duplicate key refuses the whole poll, state included.
    await expect(
      store.events.applyFeed(
        { added: [feedEvent('f4', 'z'), feedEvent('f5', 'c')], changed: [], removed: [] },
        state({ etag: '"v3"' }),
      ),
    ).rejects.toThrow();
    expect(await store.events.get('f4')).toBeNull();
    expect((await store.events.feedState(UAI, 'grr'))?.etag).toBe('"v2"');
    await store.events.putFeedState(
      state({ failingSince: Date.parse('2026-03-03T08:00:00Z'), lastError: 'HTTP 503' }),
    );
    expect(await store.events.feedState(UAI, 'grr')).toMatchObject({
      failingSince: Date.parse('2026-03-03T08:00:00Z'),
      lastError: 'HTTP 503',
    });
  });
});
