/**
 * Bytes → text for every text format. Order: byte-order mark, then the XML declaration's
 * `encoding`, then strict UTF-8, then Windows-1252 (which EDT/STS files of older tools use for
 * œ, ’, €). Text that still holds U+FFFD is refused: a wrong guess must not store garbled names.
 * @see ../../../shared/research/formats.md §5.9
 */
import { InputError } from '../domain/problems.js';

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
  const decoder = new TextDecoder(chosen.encoding, { fatal: false, ignoreBOM: true });
  const size = options.chunkBytes ?? 1 << 20;
  let line = 1;
  for (let at = chosen.offset; at < bytes.length; at += size) {
    const end = Math.min(bytes.length, at + size);
    // Always streaming, flushed below: Node 20's one-shot windows-1252 decode drops or garbles 0x80–0x9F.
    const text = decoder.decode(bytes.subarray(at, end), { stream: true });
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
  const rest = decoder.decode();
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

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
