/**
 * How a timetable document is kept in its text column: gzip-compressed and base64-encoded behind
 * a tag. A year-long EDT export normalises to ~57 MB of JSON that compresses ~60×; it is
 * serialised and compressed a slice of lessons at a time (concatenated gzip members, which
 * gunzip reads as one stream), so no whole-document string is ever built: the write, the WAL
 * traffic, the database size and the import's peak memory all shrink (docs/performance.md).
 *
 * `gzip-weeks:` (written now): the JSON is `{"document":…,"weeks":[…]}` where each lesson's
 * `weeks` is an index into the table of distinct week lists. A school's lessons share a few
 * dozen week lists, which were ~80 % of the JSON (36 dates per lesson): serialising them once
 * makes the import's encoding ~5× cheaper and the decoded document shares the lists (less memory
 * in SORTIE and VUE workers). Rows written before hold `gzip:` (the plain document) or plain JSON
 * (`{…`), both still read.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Lesson, Timetable } from '../domain/timetable.js';

const WEEKS_TAG = 'gzip-weeks:';
const GZIP_TAG = 'gzip:';
const LESSONS_PER_MEMBER = 2_000;
/** Stands for the lessons array while the rest of the document is serialised around it. */
const PLACEHOLDER = '\u0000lessons\u0000';

export function encodeDocument(timetable: Timetable): string {
  const frame = JSON.stringify({ ...timetable, lessons: PLACEHOLDER });
  const at = frame.indexOf(JSON.stringify(PLACEHOLDER));
  const members: Buffer[] = [gzip(`{"document":${frame.slice(0, at)}[`)];
  const table = new WeeksTable();
  const { lessons } = timetable;
  for (let i = 0; i < lessons.length; i += LESSONS_PER_MEMBER) {
    let text = i > 0 ? ',' : '';
    const end = Math.min(lessons.length, i + LESSONS_PER_MEMBER);
    for (let j = i; j < end; j++) {
      const lesson = lessons[j] as Lesson;
      // The spread keeps the key order; only `weeks` changes, to its index in the table.
      const json = JSON.stringify(lesson.weeks ? { ...lesson, weeks: table.indexOf(lesson.weeks) } : lesson);
      text += j > i ? `,${json}` : json;
    }
    members.push(gzip(text));
  }
  members.push(
    gzip(`]${frame.slice(at + JSON.stringify(PLACEHOLDER).length)},"weeks":[${table.json.join(',')}]}`),
  );
  return WEEKS_TAG + Buffer.concat(members).toString('base64');
}

export function decodeDocument(stored: string): Timetable {
  if (stored.startsWith(WEEKS_TAG)) {
    const { document, weeks } = JSON.parse(gunzip(stored.slice(WEEKS_TAG.length))) as {
      document: Timetable;
      weeks: string[][];
    };
    for (const lesson of document.lessons) {
      const index = lesson.weeks as unknown;
      if (typeof index === 'number') lesson.weeks = weeks[index] as string[];
    }
    return document;
  }
  const json = stored.startsWith(GZIP_TAG) ? gunzip(stored.slice(GZIP_TAG.length)) : stored;
  return JSON.parse(json) as Timetable;
}

/**
 * Distinct week lists in first-use order. Looked up by identity first (a reader that shares its
 * lists, like EDT's, costs one map look-up per lesson), then by content (readers that build a
 * list per lesson still get one entry per distinct list).
 */
class WeeksTable {
  readonly json: string[] = [];
  private readonly byList = new Map<readonly string[], number>();
  private readonly byJson = new Map<string, number>();

  indexOf(weeks: readonly string[]): number {
    const known = this.byList.get(weeks);
    if (known !== undefined) return known;
    const json = JSON.stringify(weeks);
    let index = this.byJson.get(json);
    if (index === undefined) {
      index = this.json.length;
      this.json.push(json);
      this.byJson.set(json, index);
    }
    this.byList.set(weeks, index);
    return index;
  }
}

function gunzip(base64: string): string {
  return gunzipSync(Buffer.from(base64, 'base64')).toString('utf8');
}

function gzip(text: string): Buffer {
  return gzipSync(text, { level: 1 });
}
