/**
 * Safe streaming XML for every XML reader: saxes (no DOM, flat memory; docs/performance.md, "XML parsers"),
 * namespaces resolved so that EDT's default namespace is matched on local names, and any
 * DOCTYPE refused (no DTD, no entity expansion: no billion laughs, no external entities).
 */
import { type SaxesAttributeNS, SaxesParser, type SaxesTagNS } from 'saxes';
import { InputError, type Problem } from '../domain/problems.js';
import { DEFAULT_INPUT_LIMITS, inputLimits, type ReaderOptions } from '../domain/reader.js';
import { type DecodedText, decodeInChunks, encodingMismatchWarnings } from './encoding.js';

export interface XmlElement {
  /** Local name, without prefix or namespace. */
  name: string;
  /** Attributes by local name, values already unescaped. */
  attributes: Record<string, string>;
  /** 1-based line of the start tag, for error locations. */
  line: number;
  /** Names of the open ancestors, root first (not including this element). */
  path: readonly string[];
}

export interface XmlHandlers {
  open?(element: XmlElement): void;
  /** Text directly inside the current element (called once per element, trimmed is up to the caller). */
  close?(element: XmlElement, text: string): void;
}

/**
 * Bounds and checks of untrusted XML. Depth and element count are checked at each start tag and
 * refused at once, so a hostile document costs at most the bound (a 0.7 MB file of 100,000 nested
 * elements once took 3.8 GB). When `warnings` is given, UTF-8 bytes under a Latin-1 declaration
 * are reported there (`encoding-mismatch`; thrown in strict mode).
 */
export interface XmlGuards {
  maxDepth?: number;
  maxElements?: number;
  strict?: boolean | undefined;
  warnings?: Problem[];
  /** Prefix of `where` in warnings (a zip entry's name). */
  prefix?: string;
}

export interface ReadXmlOptions {
  encoding?: DecodedText;
  onProgress?: (fraction: number) => void;
  chunkBytes?: number;
  guards?: XmlGuards;
}

/**
 * Streams `bytes` through the handlers. Throws `InputError` (`xml-malformed`, `xml-doctype`,
 * `xml-too-deep`, `xml-too-many-elements`, `encoding-mismatch` when strict).
 */
export function readXml(bytes: Uint8Array, handlers: XmlHandlers, options: ReadXmlOptions = {}): DecodedText {
  const maxDepth = options.guards?.maxDepth ?? DEFAULT_INPUT_LIMITS.maxXmlDepth;
  const maxElements = options.guards?.maxElements ?? DEFAULT_INPUT_LIMITS.maxXmlElements;
  let elements = 0;
  const parser = new SaxesParser({ xmlns: true, position: true });
  // Open elements and their text, by depth: parallel arrays reused across the whole document,
  // so a start tag allocates its element and attributes only (a 30 MB export has ~700k elements).
  const open: XmlElement[] = [];
  const texts: string[] = [];
  const names: string[] = [];
  const frozenPaths: (readonly string[] | undefined)[] = [];
  let failure: InputError | null = null;
  const fail = (error: InputError) => {
    failure ??= error;
  };

  parser.on('doctype', () => {
    fail(
      InputError.of(
        'xml-doctype',
        'DOCTYPE declarations are refused (no DTD or entity expansion)',
        `line ${parser.line}`,
        'malformed',
      ),
    );
  });
  parser.on('opentag', (tag) => {
    const ns = tag as SaxesTagNS;
    const depth = names.length;
    // Thrown, not recorded: saxes lets it out of write(), which stops the parse mid-chunk.
    if (depth >= maxDepth) {
      throw InputError.of(
        'xml-too-deep',
        `elements nest deeper than ${maxDepth} levels (entree.max_xml_depth)`,
        `line ${parser.line}, ${pathText([...names, ns.local])}`,
        'invalid',
      );
    }
    if (++elements > maxElements) {
      throw InputError.of(
        'xml-too-many-elements',
        `the document has more than ${maxElements} elements (entree.max_xml_elements)`,
        `line ${parser.line}, ${ns.local}`,
        'invalid',
      );
    }
    const attributes: Record<string, string> = {};
    const source = ns.attributes;
    for (const key in source) {
      const attr = source[key] as SaxesAttributeNS;
      if (attr.prefix === 'xmlns' || attr.name === 'xmlns') continue;
      attributes[attr.local] = attr.value;
    }
    // Siblings share one frozen ancestor array: no copy per element (most are leaves).
    let path = frozenPaths[depth];
    if (!path) {
      path = names.slice();
      frozenPaths[depth] = path;
    }
    const element: XmlElement = { name: ns.local, attributes, line: parser.line, path };
    names.push(ns.local);
    frozenPaths[depth + 1] = undefined;
    open[depth] = element;
    texts[depth] = '';
    if (!failure) {
      try {
        handlers.open?.(element);
      } catch (error) {
        fail(asInputError(error));
      }
    }
  });
  const onText = (text: string) => {
    const depth = names.length - 1;
    if (depth >= 0) texts[depth] += text;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    const depth = names.length - 1;
    names.pop();
    if (depth < 0 || failure) return;
    const element = open[depth] as XmlElement;
    const text = texts[depth] as string;
    texts[depth] = '';
    try {
      handlers.close?.(element, text);
    } catch (error) {
      fail(asInputError(error));
    }
  });
  parser.on('error', (error) => {
    fail(
      InputError.of(
        'xml-malformed',
        `malformed XML: ${error.message.replace(/^\d+:\d+: /, '')}`,
        `line ${parser.line}, column ${parser.column}`,
        'malformed',
      ),
    );
  });

  const total = bytes.length || 1;
  let fed = 0;
  const used = decodeInChunks(
    bytes,
    (text) => {
      if (failure) return;
      parser.write(text);
      fed += text.length;
      options.onProgress?.(Math.min(1, fed / total));
    },
    {
      ...(options.encoding ? { encoding: options.encoding } : {}),
      chunkBytes: options.chunkBytes ?? 1 << 20,
    },
  );
  if (!failure) parser.close();
  if (failure) throw failure;
  const guards = options.guards;
  if (guards?.warnings) {
    guards.warnings.push(
      ...encodingMismatchWarnings(bytes, used, { strict: guards.strict, prefix: guards.prefix }),
    );
  }
  return used;
}

/** The guards of a reader's options: configured bounds, strictness, where warnings go. */
export function xmlGuards(options: ReaderOptions, warnings: Problem[], prefix?: string): XmlGuards {
  const limits = inputLimits(options);
  return {
    maxDepth: limits.maxXmlDepth,
    maxElements: limits.maxXmlElements,
    strict: options.strict,
    warnings,
    ...(prefix ? { prefix } : {}),
  };
}

/** `A/B/…/Y/Z`: the first and last names of a (possibly very long) element path. */
function pathText(names: readonly string[]): string {
  return names.length <= 6 ? names.join('/') : [...names.slice(0, 3), '…', ...names.slice(-2)].join('/');
}

// Handler errors that are not input errors are our bugs: let them surface.
function asInputError(error: unknown): InputError {
  if (error instanceof InputError) return error;
  throw error;
}
