/**
 * Frozen savings (issue 21; migration 0013; docs/savings.md, "Frozen periods"): the estimate of
 * a closed week or month, stored once with the rules version, timetable versions and plan hashes
 * it was computed from. The first stored figure stays: a second freeze of the same period is a
 * no-op, so instances racing at a period's close agree on one row.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export type FrozenPeriodKind = 'week' | 'month';

export interface FrozenSavings {
  uai: string;
  kind: FrozenPeriodKind;
  /** Local dates, inclusive. */
  from: string;
  to: string;
  /** ISO 8601 UTC. */
  frozenAt: string;
  rulesVersion: string;
  timetableVersions: number[];
  planHashes: string[];
  /** The savings body as computed at the freeze (JSON value). */
  body: unknown;
}

export interface FrozenSavingsRepository {
  /** Stores the period unless it is frozen already; returns the row kept. */
  freeze(row: FrozenSavings): Promise<FrozenSavings>;
  get(uai: string, kind: FrozenPeriodKind, from: string): Promise<FrozenSavings | null>;
  /** Frozen periods of a school starting within local dates `from`..`to`. */
  list(uai: string, from: string, to: string): Promise<FrozenSavings[]>;
}

export function createFrozenSavingsRepository(db: Kysely<Database>): FrozenSavingsRepository {
  const get = async (uai: string, kind: FrozenPeriodKind, from: string) => {
    const row = await db
      .selectFrom('frozen_savings')
      .selectAll()
      .where('uai', '=', uai)
      .where('period_kind', '=', kind)
      .where('period_from', '=', from)
      .executeTakeFirst();
    return row === undefined ? null : fromRow(row);
  };
  return {
    async freeze(row) {
      await db
        .insertInto('frozen_savings')
        .values({
          uai: row.uai,
          period_kind: row.kind,
          period_from: row.from,
          period_to: row.to,
          frozen_at: row.frozenAt,
          rules_version: row.rulesVersion,
          timetable_versions_json: JSON.stringify(row.timetableVersions),
          plan_hashes_json: JSON.stringify(row.planHashes),
          body_json: JSON.stringify(row.body),
        })
        .onConflict((oc) => oc.columns(['uai', 'period_kind', 'period_from']).doNothing())
        .execute();
      return (await get(row.uai, row.kind, row.from)) as FrozenSavings;
    },
    get,
    async list(uai, from, to) {
      const rows = await db
        .selectFrom('frozen_savings')
        .selectAll()
        .where('uai', '=', uai)
        .where('period_from', '>=', from)
        .where('period_from', '<=', to)
        .orderBy('period_from')
        .orderBy('period_kind')
        .execute();
      return rows.map(fromRow);
    },
  };
}

function fromRow(row: Database['frozen_savings']): FrozenSavings {
  return {
    uai: row.uai,
    kind: row.period_kind,
    from: row.period_from,
    to: row.period_to,
    frozenAt: row.frozen_at,
    rulesVersion: row.rules_version,
    timetableVersions: JSON.parse(row.timetable_versions_json) as number[],
    planHashes: JSON.parse(row.plan_hashes_json) as string[],
    body: JSON.parse(row.body_json) as unknown,
  };
}
