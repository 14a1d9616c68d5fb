/**
 * Safe unzip for uploaded archives (UDT exports): reads the central directory itself and inflates
 * each entry with fflate's streaming `Inflate`, counting the bytes actually produced, so that a
 * zip bomb is stopped when a cap is crossed, whatever sizes the headers declare (they can lie).
 * Entry names that could escape a directory (zip-slip) are refused even though nothing is ever
 * written to disk: the names reach logs and error messages, and a later tool might extract them.
 * @see docs/formats.md, "XML and zip archives" (zip bombs and zip-slip)
 */
import { Inflate } from 'fflate';
import { InputError, type InputErrorKind } from '../domain/problems.js';

export interface ZipLimits {
  /** Entries in the central directory, directories included. */
  maxEntries: number;
  /** Sum of the inflated sizes of all entries, in bytes. */
  maxTotalBytes: number;
  /** Inflated size of one entry, in bytes. */
  maxEntryBytes: number;
  /** Inflated ÷ compressed bytes read so far, beyond which an entry is taken for a bomb. */
  maxRatio: number;
  /** Below this inflated size the ratio is not checked (a small file of blanks compresses 100:1). */
  ratioGraceBytes: number;
}

/**
 * A UDT export is a few dozen XML files of a few MB at most. Deflate tops out near 1032:1, and
 * real XML stays under ~50:1, so 200:1 past the first MiB separates bombs from documents.
 */
export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 1_000,
  maxTotalBytes: 200 * 1024 * 1024,
  maxEntryBytes: 100 * 1024 * 1024,
  maxRatio: 200,
  ratioGraceBytes: 1024 * 1024,
};

// Zip record signatures and fixed sizes (PKWARE APPNOTE.TXT §4.3).
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const END_RECORD_SIZE = 22;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const MAX_COMMENT = 0xffff;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
const FLAG_ENCRYPTED = 0x1;
const FLAG_UTF8_NAME = 0x800;
/** Compressed bytes per push: bounds the output of one step to ~1032 × this. */
const INFLATE_CHUNK = 16 * 1024;

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  declaredSize: number;
  localHeaderOffset: number;
}

/**
 * Every file entry of the archive by its name inside the zip (directories skipped).
 * Throws `InputError`: `zip-malformed` (not a zip, truncated, corrupt), `zip-unsafe-path`,
 * `zip-unsupported` (encrypted, zip64, other compression), `zip-too-many-entries`,
 * `zip-entry-too-large`, `zip-too-large`, `zip-bomb`.
 */
export function readZipEntries(bytes: Uint8Array, limits: Partial<ZipLimits> = {}): Map<string, Uint8Array> {
  const caps: ZipLimits = { ...DEFAULT_ZIP_LIMITS, ...limits };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = readCentralDirectory(bytes, view, caps);
  const files = new Map<string, Uint8Array>();
  let total = 0;
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue;
    if (files.has(entry.name)) {
      throw zipError('zip-malformed', `the archive holds two entries named "${entry.name}"`, entry.name);
    }
    const data = inflateEntry(bytes, view, entry, caps, total);
    total += data.length;
    files.set(entry.name, data);
  }
  return files;
}

function readCentralDirectory(bytes: Uint8Array, view: DataView, caps: ZipLimits): CentralEntry[] {
  const end = findEndRecord(bytes, view);
  const where = 'end of central directory';
  const diskNumber = view.getUint16(end + 4, true);
  const centralDisk = view.getUint16(end + 6, true);
  const count = view.getUint16(end + 10, true);
  const size = view.getUint32(end + 12, true);
  const offset = view.getUint32(end + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    throw zipError('zip-unsupported', 'zip64 archives are not supported', where, 'unsupported');
  }
  if (diskNumber !== 0 || centralDisk !== 0) {
    throw zipError('zip-unsupported', 'multi-volume archives are not supported', where, 'unsupported');
  }
  if (count > caps.maxEntries) {
    throw zipError(
      'zip-too-many-entries',
      `the archive has ${count} entries; at most ${caps.maxEntries} are accepted`,
      where,
      'too-large',
    );
  }
  if (offset + size > end) {
    throw zipError('zip-malformed', 'the central directory lies outside the archive (truncated?)', where);
  }
  const entries: CentralEntry[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_HEADER_SIZE > end || view.getUint32(at, true) !== CENTRAL_DIRECTORY_HEADER) {
      throw zipError(
        'zip-malformed',
        `central directory entry ${i + 1} of ${count} is missing or corrupt`,
        where,
      );
    }
    const flags = view.getUint16(at + 8, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const nameBytes = bytes.subarray(at + CENTRAL_HEADER_SIZE, at + CENTRAL_HEADER_SIZE + nameLength);
    // Names without the UTF-8 flag are CP437; they share ASCII, which is all the checks need.
    const name = new TextDecoder(flags & FLAG_UTF8_NAME ? 'utf-8' : 'latin1').decode(nameBytes);
    checkEntryName(name);
    const entry: CentralEntry = {
      name,
      flags,
      method: view.getUint16(at + 10, true),
      crc32: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      declaredSize: view.getUint32(at + 24, true),
      localHeaderOffset: view.getUint32(at + 42, true),
    };
    if (entry.compressedSize === 0xffffffff || entry.localHeaderOffset === 0xffffffff) {
      throw zipError('zip-unsupported', 'zip64 entries are not supported', name, 'unsupported');
    }
    entries.push(entry);
    at += CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
  }
  return entries;
}

function findEndRecord(bytes: Uint8Array, view: DataView): number {
  const last = bytes.length - END_RECORD_SIZE;
  const first = Math.max(0, last - MAX_COMMENT);
  for (let at = last; at >= first; at--) {
    if (view.getUint32(at, true) === END_OF_CENTRAL_DIRECTORY) return at;
  }
  throw zipError(
    'zip-malformed',
    'no end-of-central-directory record: not a zip archive, or a truncated one',
    'end of central directory',
  );
}

/** Zip-slip: refuse names that are absolute or climb out of the extraction directory. */
function checkEntryName(name: string): void {
  const reason =
    name.length === 0
      ? 'an empty name'
      : name.includes('\0')
        ? 'a NUL character'
        : name.includes('\\')
          ? 'a backslash'
          : name.startsWith('/')
            ? 'an absolute path'
            : /^[A-Za-z]:/.test(name)
              ? 'a drive letter'
              : name.split('/').includes('..')
                ? 'a ".." segment'
                : null;
  if (reason) {
    throw zipError('zip-unsafe-path', `entry name "${name}" is refused: it contains ${reason}`, name);
  }
}

function inflateEntry(
  bytes: Uint8Array,
  view: DataView,
  entry: CentralEntry,
  caps: ZipLimits,
  totalSoFar: number,
): Uint8Array {
  const where = entry.name;
  if (entry.flags & FLAG_ENCRYPTED) {
    throw zipError('zip-unsupported', 'encrypted entries are not supported', where, 'unsupported');
  }
  if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATE) {
    throw zipError(
      'zip-unsupported',
      `compression method ${entry.method} is not supported (only stored and deflate)`,
      where,
      'unsupported',
    );
  }
  const header = entry.localHeaderOffset;
  if (header + LOCAL_HEADER_SIZE > bytes.length || view.getUint32(header, true) !== LOCAL_FILE_HEADER) {
    throw zipError('zip-malformed', 'the local header of this entry is missing (truncated archive?)', where);
  }
  const start =
    header + LOCAL_HEADER_SIZE + view.getUint16(header + 26, true) + view.getUint16(header + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) {
    throw zipError(
      'zip-malformed',
      'the data of this entry runs past the end of the archive (truncated)',
      where,
    );
  }
  const compressed = bytes.subarray(start, end);

  const chunks: Uint8Array[] = [];
  let produced = 0;
  // `consumed` = compressed bytes pushed so far: the ratio is checked as the stream goes, so a
  // bomb is stopped after its first chunks rather than after compressedSize × maxRatio bytes.
  const account = (length: number, consumed: number) => {
    produced += length;
    if (produced > caps.maxEntryBytes) {
      throw zipError(
        'zip-entry-too-large',
        `this entry inflates to more than ${caps.maxEntryBytes} bytes`,
        where,
        'too-large',
      );
    }
    if (totalSoFar + produced > caps.maxTotalBytes) {
      throw zipError(
        'zip-too-large',
        `the archive inflates to more than ${caps.maxTotalBytes} bytes`,
        where,
        'too-large',
      );
    }
    if (produced > caps.ratioGraceBytes && produced > Math.max(1, consumed) * caps.maxRatio) {
      throw zipError(
        'zip-bomb',
        `this entry inflates more than ${caps.maxRatio} times its compressed size (zip bomb?)`,
        where,
        'too-large',
      );
    }
  };

  if (entry.method === METHOD_STORED) {
    account(compressed.length, compressed.length);
    chunks.push(compressed);
  } else {
    const inflater = new Inflate((chunk) => {
      chunks.push(chunk);
    });
    for (let at = 0; at < compressed.length || at === 0; at += INFLATE_CHUNK) {
      const next = Math.min(compressed.length, at + INFLATE_CHUNK);
      const before = chunks.length;
      try {
        inflater.push(compressed.subarray(at, next), next === compressed.length);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw zipError('zip-malformed', `the compressed data is corrupt or truncated (${message})`, where);
      }
      for (let i = before; i < chunks.length; i++) account(chunks[i]?.length ?? 0, next);
      if (next === compressed.length) break;
    }
  }

  const data = concat(chunks, produced);
  if (data.length !== entry.declaredSize) {
    throw zipError(
      'zip-malformed',
      `the entry inflates to ${data.length} bytes but the directory declares ${entry.declaredSize}`,
      where,
    );
  }
  if (crc32(data) !== entry.crc32) {
    throw zipError('zip-malformed', 'the CRC-32 of the entry does not match (corrupt archive)', where);
  }
  return data;
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, reflected 0xEDB88320), as zip stores it. */
function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const table = crcTable;
  let crc = 0xffffffff;
  // Indexed loop: an iterator over 5 MB costs ~15× more here.
  for (let i = 0; i < data.length; i++)
    crc = (table[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function zipError(
  code: string,
  message: string,
  where: string,
  kind: InputErrorKind = 'malformed',
): InputError {
  return InputError.of(code, message, where, kind);
}
