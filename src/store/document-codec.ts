/**
 * How a timetable document is kept in its text column: gzip-compressed and base64-encoded behind
 * a `gzip:` tag. A year-long EDT export normalises to ~57 MB of JSON that compresses ~60×; it is
 * serialised and compressed a slice of lessons at a time (concatenated gzip members, which
 * gunzip reads as one stream), so no whole-document string is ever built: the write, the WAL
 * traffic, the database size and the import's peak memory all shrink (docs/performance.md).
 * Rows written before this codec hold plain JSON (`{…`), which is still read.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Timetable } from '../domain/timetable.js';

const GZIP_TAG = 'gzip:';
const LESSONS_PER_MEMBER = 2_000;
/** Stands for the lessons array while the rest of the document is serialised around it. */
const PLACEHOLDER = '\u0000lessons\u0000';

export function encodeDocument(timetable: Timetable): string {
  const frame = JSON.stringify({ ...timetable, lessons: PLACEHOLDER });
  const at = frame.indexOf(JSON.stringify(PLACEHOLDER));
  const members: Buffer[] = [gzip(`${frame.slice(0, at)}[`)];
  const { lessons } = timetable;
  for (let i = 0; i < lessons.length; i += LESSONS_PER_MEMBER) {
    const slice = lessons.slice(i, i + LESSONS_PER_MEMBER).map((lesson) => JSON.stringify(lesson));
    members.push(gzip(`${i > 0 ? ',' : ''}${slice.join(',')}`));
  }
  members.push(gzip(`]${frame.slice(at + JSON.stringify(PLACEHOLDER).length)}`));
  return GZIP_TAG + Buffer.concat(members).toString('base64');
}

export function decodeDocument(stored: string): Timetable {
  const json = stored.startsWith(GZIP_TAG)
    ? gunzipSync(Buffer.from(stored.slice(GZIP_TAG.length), 'base64')).toString('utf8')
    : stored;
  return JSON.parse(json) as Timetable;
}

function gzip(text: string): Buffer {
  return gzipSync(text, { level: 1 });
}
