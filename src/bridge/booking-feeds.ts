/**
 * Booking feeds (docs/events.md, "Booking feeds"): each school's `booking_feeds` (devices/) are
 * read every `poll_minutes` — over HTTP with If-None-Match / If-Modified-Since (a 304 costs
 * nothing), or from a file — and their bookings become the school's events (source `feed`,
 * read-only in the API and the dashboard). Each poll's changes are applied in one transaction and
 * audited as added, moved or cancelled.
 *
 * The feed is untrusted: its size is capped while it is read (`max_kb`), it is parsed by a
 * `FeedParser` (a worker in the service: booking-feed-pool.ts) with bounded occurrences, and a
 * failure (unreachable, HTTP error, too large, unreadable) changes nothing: the last good
 * bookings keep planning, and the failure is counted from its first occurrence (`failingSince`)
 * for the alert, the gauge and /readyz.
 */
import { createHash, randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BookingFeed } from '../devices/schema.js';
import type { Clock } from '../domain/clock.js';
import { isInputError } from '../domain/problems.js';
import type { BookingFeedInput, BookingFeedResult } from '../events/booking-feed.js';
import { MAX_EVENTS_PER_SCHOOL, type ScheduledEvent } from '../events/scheduled-event.js';
import type { Site } from '../site/load-site.js';
import type { BookingFeedState, ScheduledEventRepository } from '../store/scheduled-event-repository.js';
import type { EventsService } from './events-service.js';

const DAY = 86_400_000;
/** Bookings are kept from a week back (a moved booking of last week is still a change) to 400 days ahead. */
const WINDOW = { backMs: 7 * DAY, aheadMs: 400 * DAY };
const FETCH_TIMEOUT_MS = 30_000;

export type FeedParser = (input: BookingFeedInput) => Promise<BookingFeedResult>;

export interface FeedStatus {
  uai: string;
  feed: string;
  ok: boolean;
  /** ISO UTC or null. */
  last_success_at: string | null;
  failing_since: string | null;
  last_error: string | null;
}

export interface BookingFeedsOptions {
  site: { readonly current: Site };
  repository: ScheduledEventRepository;
  events: Pick<EventsService, 'applyFeed'>;
  parse: FeedParser;
  clock: Clock;
  /** Where `file` paths are resolved. */
  baseDir: string;
  fetch?: typeof fetch;
  /** Several instances: only the lease holder polls a school's feeds. */
  owns?: (uai: string) => boolean;
  logger?: { warn(obj: object, msg?: string): void };
}

export class BookingFeeds {
  private readonly states = new Map<string, BookingFeedState>();
  private readonly running = new Map<string, Promise<void>>();
  private loaded = false;

  constructor(private readonly options: BookingFeedsOptions) {}

  /** Every configured feed of the schools held, with its state. */
  private feeds(): Array<{ uai: string; timezone: string; feed: BookingFeed }> {
    const owns = this.options.owns ?? (() => true);
    return [...this.options.site.current.devices.values()].flatMap((d) =>
      owns(d.value.school.uai)
        ? (d.value.booking_feeds ?? []).map((feed) => ({
            uai: d.value.school.uai,
            timezone: d.value.school.timezone,
            feed,
          }))
        : [],
    );
  }

  /** Polls every feed whose period has elapsed since its last attempt (the service calls it each minute). */
  async pollDue(): Promise<void> {
    await this.load();
    const now = this.options.clock.now();
    await Promise.all(
      this.feeds()
        .filter(({ uai, feed }) => {
          const last = this.states.get(key(uai, feed.id))?.lastAttemptAt ?? null;
          return last === null || now - last >= feed.poll_minutes * 60_000;
        })
        .map(({ uai, feed }) => this.poll(uai, feed.id)),
    );
  }

  /** Polls one feed now (one poll per feed at a time: a second call waits for the running one). */
  async poll(uai: string, feedId: string): Promise<void> {
    const id = key(uai, feedId);
    const running = this.running.get(id);
    if (running) return running;
    const work = this.pollOnce(uai, feedId).finally(() => this.running.delete(id));
    this.running.set(id, work);
    return work;
  }

  /** Feeds with their health, for the dashboard, /metrics and /readyz. */
  status(): FeedStatus[] {
    return this.feeds().map(({ uai, feed }) => {
      const s = this.states.get(key(uai, feed.id));
      const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
      return {
        uai,
        feed: feed.id,
        ok: !!s && s.failingSince === null && s.lastSuccessAt !== null,
        last_success_at: iso(s?.lastSuccessAt),
        failing_since: iso(s?.failingSince),
        last_error: s?.lastError ?? null,
      };
    });
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    for (const s of await this.options.repository.feedStates()) this.states.set(key(s.uai, s.feedId), s);
    this.loaded = true;
  }

  private async pollOnce(uai: string, feedId: string): Promise<void> {
    await this.load();
    const entry = this.feeds().find((f) => f.uai === uai && f.feed.id === feedId);
    if (!entry) return;
    const { feed, timezone } = entry;
    const now = this.options.clock.now();
    const previous: BookingFeedState = this.states.get(key(uai, feedId)) ?? {
      uai,
      feedId,
      etag: null,
      lastModified: null,
      bodySha256: null,
      lastSuccessAt: null,
      lastAttemptAt: null,
      failingSince: null,
      lastError: null,
    };
    const attempted = { ...previous, lastAttemptAt: now };
    try {
      const fetched = await this.read(feed, previous);
      const success = {
        ...attempted,
        lastSuccessAt: now,
        failingSince: null,
        lastError: null,
        ...(fetched.kind === 'body'
          ? { etag: fetched.etag, lastModified: fetched.lastModified, bodySha256: fetched.sha256 }
          : {}),
      };
      if (fetched.kind === 'unchanged' || fetched.sha256 === previous.bodySha256) {
        await this.options.repository.putFeedState(success);
        this.states.set(key(uai, feedId), success);
        return;
      }
      const result = await this.options.parse({
        text: fetched.text,
        timezone,
        window: { from: now - WINDOW.backMs, to: now + WINDOW.aheadMs },
        rooms: feed.rooms,
      });
      await this.apply(uai, feed, result, success);
      this.states.set(key(uai, feedId), success);
    } catch (error) {
      const failed = {
        ...attempted,
        failingSince: previous.failingSince ?? now,
        lastError: describe(error),
      };
      this.options.logger?.warn(
        { uai, feed: feedId, error: failed.lastError },
        'booking feed failed; last good bookings kept',
      );
      await this.options.repository.putFeedState(failed);
      this.states.set(key(uai, feedId), failed);
    }
  }

  /** Diffs the bookings against the feed's stored events; stores the changes and the state together. */
  private async apply(
    uai: string,
    feed: BookingFeed,
    result: BookingFeedResult,
    state: BookingFeedState,
  ): Promise<void> {
    const now = this.options.clock.now();
    const all = await this.options.repository.list({ uais: [uai] });
    const mine = all.filter((e) => e.source === 'feed' && e.feed?.id === feed.id);
    if (all.length - mine.length + result.bookings.length > MAX_EVENTS_PER_SCHOOL) {
      throw new Error(`the feed would take the school over ${MAX_EVENTS_PER_SCHOOL} events`);
    }
    const byKey = new Map(mine.map((e) => [e.feed?.key as string, e]));
    const seen = new Set<string>();
    const actor = `booking-feed/${feed.id}`;
    const added: ScheduledEvent[] = [];
    const changed: ScheduledEvent[] = [];
    for (const b of result.bookings) {
      if (seen.has(b.key)) continue;
      seen.add(b.key);
      const fields = { title: b.title, start: b.start, end: b.end, target: { rooms: b.rooms } };
      const existing = byKey.get(b.key);
      if (!existing) {
        added.push({
          ...fields,
          id: randomUUID(),
          uai,
          source: 'feed',
          feed: { id: feed.id, key: b.key },
          created_by: actor,
          created_at: now,
          updated_by: actor,
          updated_at: now,
        });
      } else if (
        existing.title !== b.title ||
        existing.start !== b.start ||
        existing.end !== b.end ||
        JSON.stringify(existing.target) !== JSON.stringify(fields.target)
      ) {
        changed.push({ ...existing, ...fields, updated_by: actor, updated_at: now });
      }
    }
    const removed = mine.filter((e) => !seen.has(e.feed?.key as string)).map((e) => e.id);
    await this.options.events.applyFeed(
      uai,
      { added, changed, removed, before: new Map(mine.map((e) => [e.id, e])) },
      state,
    );
  }

  private async read(
    feed: BookingFeed,
    previous: BookingFeedState,
  ): Promise<
    | { kind: 'unchanged' }
    | { kind: 'body'; text: string; sha256: string; etag: string | null; lastModified: string | null }
  > {
    const limit = feed.max_kb * 1024;
    if (feed.file !== undefined) {
      const bytes = await readBounded(resolve(this.options.baseDir, feed.file), limit);
      return body(bytes, null, null);
    }
    const headers: Record<string, string> = { Accept: 'text/calendar' };
    if (previous.etag) headers['If-None-Match'] = previous.etag;
    if (previous.lastModified) headers['If-Modified-Since'] = previous.lastModified;
    const response = await (this.options.fetch ?? fetch)(feed.url as string, {
      headers,
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      redirect: 'follow',
    });
    if (response.status === 304) return { kind: 'unchanged' };
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status} from the feed`);
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > limit) {
      await response.body?.cancel();
      throw new Error(`the feed is ${declared} bytes, over its ${feed.max_kb} KB limit`);
    }
    const bytes = await readStreamBounded(response, limit);
    return body(bytes, response.headers.get('etag'), response.headers.get('last-modified'));
  }
}

function body(bytes: Uint8Array, etag: string | null, lastModified: string | null) {
  return {
    kind: 'body' as const,
    text: new TextDecoder('utf-8').decode(bytes),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    etag,
    lastModified,
  };
}

async function readStreamBounded(response: Response, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`the feed is over its ${limit / 1024} KB limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

async function readBounded(path: string, limit: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new Error(`${path} is ${size} bytes, over its ${limit / 1024} KB limit`);
    const buffer = Buffer.alloc(size);
    await handle.read(buffer, 0, size, 0);
    return buffer;
  } finally {
    await handle.close();
  }
}

function describe(error: unknown): string {
  if (isInputError(error))
    return error.problems
      .map((p) => `${p.code}: ${p.message}`)
      .join('; ')
      .slice(0, 500);
  const e = error as Error & { cause?: { code?: string } };
  return `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`.slice(0, 500);
}

function key(uai: string, feedId: string): string {
  return `${uai}\u0000${feedId}`;
}
