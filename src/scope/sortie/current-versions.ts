/**
 * The current timetable version of each school, kept in memory for SORTIE revalidations: a 304
 * must not cost a database round trip (issue 4: ≥ 0.5 of a trivial route's throughput).
 * Imports made by this process invalidate their school at once (`invalidate`, from the ENTRÉE
 * hook); imports made by another instance sharing the database are seen after at most `ttlMs`.
 */
import type { TimetableVersionMeta } from '../../store/timetable-repository.js';

export interface CurrentVersionsOptions {
  load: (uai: string) => Promise<TimetableVersionMeta | null>;
  /** How long an entry is trusted without asking the store again (default 1 s). */
  ttlMs?: number;
  now?: () => number;
}

export class CurrentVersions {
  private readonly entries = new Map<string, { meta: TimetableVersionMeta | null; at: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: CurrentVersionsOptions) {
    this.ttlMs = options.ttlMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  async get(uai: string): Promise<TimetableVersionMeta | null> {
    const entry = this.entries.get(uai);
    const now = this.now();
    if (entry && now - entry.at < this.ttlMs) return entry.meta;
    const meta = await this.options.load(uai);
    this.entries.set(uai, { meta, at: now });
    return meta;
  }

  invalidate(uai: string): void {
    this.entries.delete(uai);
  }
}
