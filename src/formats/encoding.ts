/**
 * Bytes → text for every text format. Order: byte-order mark, then the XML declaration's
 * `encoding`, then strict UTF-8, then Windows-1252 (which EDT/STS files of older tools use for
 * œ, ’, €). Text that still holds U+FFFD is refused: a wrong guess must not store garbled names.
 * @see docs/formats.md, "Encodings"
 */
import { StringDecoder } from 'node:string_decoder';
import { InputError, type Problem } from '../domain/problems.js';

export interface DecodedText {
  /** WHATWG label of the encoding used. */
  encoding: string;
  /** How it was chosen, for warnings and docs. */
  from: 'bom' | 'declaration' | 'utf-8' | 'fallback' | 'caller';
  /** Bytes to skip at the start (the BOM). */
  offset: number;
}

const LABELS: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'utf-16': 'utf-16le',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
  'iso-8859-1': 'windows-1252', // WHATWG decodes latin1 as windows-1252, a superset for printable text
  latin1: 'windows-1252',
  'iso-8859-15': 'iso-8859-15',
  latin9: 'iso-8859-15',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  'us-ascii': 'utf-8',
  ascii: 'utf-8',
};

/** Chooses the encoding of `bytes` without decoding all of them. */
export function detectEncoding(bytes: Uint8Array): DecodedText {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { encoding: 'utf-8', from: 'bom', offset: 3 };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', from: 'bom', offset: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', from: 'bom', offset: 2 };
  const head = Buffer.from(bytes.subarray(0, 256)).toString('latin1');
  const declaration = /^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  if (declaration?.[1]) {
    const label = LABELS[declaration[1].toLowerCase()];
    if (!label) {
      throw InputError.of(
        'encoding-unsupported',
        `the XML declaration names encoding "${declaration[1]}", which is not supported (UTF-8, UTF-16, ISO-8859-1/15, Windows-1252)`,
        'line 1 (XML declaration)',
        'malformed',
      );
    }
    return { encoding: label, from: 'declaration', offset: 0 };
  }
  if (isValidUtf8(bytes)) return { encoding: 'utf-8', from: 'utf-8', offset: 0 };
  return { encoding: 'windows-1252', from: 'fallback', offset: 0 };
}

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes in chunks (so a 30 MB export is never one 60 MB string), calling `sink` for each piece.
 * Throws `encoding-invalid` with the line of the first undecodable character.
 */
export function decodeInChunks(
  bytes: Uint8Array,
  sink: (text: string) => void,
  options: { chunkBytes?: number; encoding?: DecodedText } = {},
): DecodedText {
  const chosen = options.encoding ?? detectEncoding(bytes);
  const decoder = chunkDecoder(chosen.encoding);
  const size = options.chunkBytes ?? 1 << 20;
  let line = 1;
  for (let at = chosen.offset; at < bytes.length; at += size) {
    const end = Math.min(bytes.length, at + size);
    // Always streaming, flushed below: Node 20's one-shot windows-1252 decode drops or garbles 0x80–0x9F.
    const text = decoder.write(bytes.subarray(at, end));
    const bad = text.indexOf('\uFFFD');
    if (bad >= 0) {
      const before = text.slice(0, bad);
      const lineOfBad = line + countNewlines(before);
      const column = bad - before.lastIndexOf('\n');
      throw InputError.of(
        'encoding-invalid',
        `the text is not valid ${chosen.encoding} (chosen from ${chosen.from}): undecodable byte sequence`,
        `line ${lineOfBad}, column ${column}`,
        'malformed',
      );
    }
    line += countNewlines(text);
    sink(text);
  }
  const rest = decoder.end();
  if (rest.includes('\uFFFD')) {
    throw InputError.of(
      'encoding-invalid',
      'the text ends inside a multi-byte character',
      `line ${line}`,
      'malformed',
    );
  }
  if (rest) sink(rest);
  return chosen;
}

/** Decodes the whole input to one string (for small text formats such as ICS and JSON). */
export function decodeText(
  bytes: Uint8Array,
  encoding?: DecodedText,
): { text: string; encoding: DecodedText } {
  const parts: string[] = [];
  const used = decodeInChunks(bytes, (t) => parts.push(t), encoding ? { encoding } : {});
  return { text: parts.join(''), encoding: used };
}

interface ChunkDecoder {
  /** Text of the chunk; an incomplete character at its end waits for the next chunk. */
  write(chunk: Uint8Array): string;
  /** The rest (U+FFFD for an incomplete character). */
  end(): string;
}

/**
 * UTF-8 (nearly every export) goes through Node's StringDecoder: the same replacement of bad
 * sequences as TextDecoder, but its strings live on the heap, whereas Node 20's streaming
 * TextDecoder leaves ~2 bytes of external memory per input byte until a full GC (+58 MB of peak
 * for a 30 MB export; docs/performance.md, "ENTRÉE import"). Other encodings keep TextDecoder.
 */
function chunkDecoder(encoding: string): ChunkDecoder {
  if (encoding === 'utf-8') {
    const decoder = new StringDecoder('utf8');
    return { write: (chunk) => decoder.write(chunk), end: () => decoder.end() };
  }
  const decoder = new TextDecoder(encoding, { fatal: false, ignoreBOM: true });
  return {
    write: (chunk) => decoder.decode(chunk, { stream: true }),
    end: () => decoder.decode(),
  };
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Single-byte encodings under which a UTF-8 export is silently garbled ("é" read as "Ã©"). */
const SINGLE_BYTE = new Set(['windows-1252', 'iso-8859-15']);

/**
 * Lines holding well-formed multi-byte UTF-8 sequences in bytes that were decoded with a
 * declared single-byte encoding: a tool wrote UTF-8 but kept `encoding="ISO-8859-1"`. Such a
 * pair (a lead byte C2–F4 followed by its continuation bytes 80–BF) is "Ã©"-like in Latin-1,
 * which French names never hold. One linear pass; null when the declaration is not in question.
 */
export function findUtf8UnderSingleByte(
  bytes: Uint8Array,
  decoded: DecodedText,
): { firstLine: number; lines: number } | null {
  if (decoded.from !== 'declaration' || !SINGLE_BYTE.has(decoded.encoding)) return null;
  let line = 1;
  let firstLine = 0;
  let lines = 0;
  let lastCounted = 0;
  for (let i = decoded.offset; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === 0x0a) {
      line++;
      continue;
    }
    if (b < 0xc2 || b > 0xf4) continue;
    const length = b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    let ok = i + length <= bytes.length;
    for (let k = 1; ok && k < length; k++) ok = ((bytes[i + k] as number) & 0xc0) === 0x80;
    if (!ok) continue;
    if (lastCounted !== line) {
      lastCounted = line;
      lines++;
      if (firstLine === 0) firstLine = line;
    }
    i += length - 1;
  }
  return lines === 0 ? null : { firstLine, lines };
}

/**
 * The `encoding-mismatch` warning for `findUtf8UnderSingleByte`, or the same problem thrown
 * (422) in strict mode. `prefix` names the zip entry of a UDT part.
 */
export function encodingMismatchWarnings(
  bytes: Uint8Array,
  decoded: DecodedText,
  options: { strict?: boolean | undefined; prefix?: string | undefined } = {},
): Problem[] {
  const found = findUtf8UnderSingleByte(bytes, decoded);
  if (!found) return [];
  const problem: Problem = {
    code: 'encoding-mismatch',
    message: `the file declares ${decoded.encoding === 'windows-1252' ? 'ISO-8859-1/Windows-1252' : decoded.encoding} but holds UTF-8 byte sequences (on ${found.lines} line(s)); names such as "été" would read "Ã©tÃ©": fix the XML declaration or re-export${options.strict ? '' : ' (refused in strict mode)'}`,
    where: `${options.prefix ? `${options.prefix}, ` : ''}line ${found.firstLine}`,
  };
  if (options.strict) throw new InputError([problem], 'invalid');
  return [problem];
}
