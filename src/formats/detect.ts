/**
 * Which reader for a body: `?format=` wins, then the Content-Type, then the bytes themselves
 * (docs/api.md, "SCOPE-ENTRÉE imports").
 */
import { InputError } from '../domain/problems.js';
import { IMPORT_FORMATS, type ImportFormat } from '../domain/timetable.js';

const BY_CONTENT_TYPE: Record<string, ImportFormat> = {
  'application/json': 'json',
  'application/zip': 'udt',
  'application/x-zip-compressed': 'udt',
  'text/calendar': 'ics',
};

const BY_EXTENSION: Record<string, ImportFormat> = {
  json: 'json',
  zip: 'udt',
  ics: 'ics',
};

const BY_XML_ROOT: Record<string, ImportFormat> = {
  ExportEmploiDuTemps: 'edt',
  EXPORT_INDEX_EDUCATION: 'edt-chiffre',
  EDT_STS: 'sts',
};

export function isImportFormat(value: string): value is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(value);
}

export function detectFormat(
  bytes: Uint8Array,
  hints: {
    format?: string | undefined;
    contentType?: string | undefined;
    fileName?: string | undefined;
  } = {},
): ImportFormat {
  if (hints.format) {
    if (isImportFormat(hints.format)) return hints.format;
    throw InputError.of(
      'format-unknown',
      `unknown format "${hints.format}"; expected one of ${IMPORT_FORMATS.join(', ')}`,
      'format',
      'malformed',
    );
  }
  const mediaType = hints.contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType && BY_CONTENT_TYPE[mediaType]) return BY_CONTENT_TYPE[mediaType];
  const sniffed = sniffFormat(bytes);
  if (sniffed) return sniffed;
  const extension = hints.fileName?.split('.').pop()?.toLowerCase();
  if (extension && BY_EXTENSION[extension]) return BY_EXTENSION[extension];
  throw InputError.of(
    'format-unknown',
    `cannot recognise the format${mediaType ? ` (Content-Type ${mediaType})` : ''}: expected native JSON, an EDT export (clear or encrypted), a UDT zip, an STS-web EDT_STS file or ICS; pass ?format= to say which`,
    'body',
    'unsupported',
  );
}

/** Looks at the first bytes only. */
export function sniffFormat(bytes: Uint8Array): ImportFormat | null {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'udt'; // "PK": a zip archive
  let head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
  if (head.charCodeAt(0) === 0xef) head = head.slice(3); // UTF-8 BOM read as latin1
  if (bytes[0] === 0xff || bytes[0] === 0xfe) head = Buffer.from(bytes.subarray(2, 8194)).toString('utf16le');
  const text = head.trimStart();
  if (text.startsWith('{')) return 'json';
  if (text.startsWith('BEGIN:VCALENDAR')) return 'ics';
  if (text.startsWith('<')) {
    // First element name after the declaration, comments and processing instructions.
    const withoutProlog = text.replace(/<\?[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '');
    const root = /<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/.exec(withoutProlog)?.[2];
    if (root && BY_XML_ROOT[root]) return BY_XML_ROOT[root];
  }
  return null;
}
