/**
 * Safe streaming XML for every XML reader: saxes (no DOM, flat memory; performance.md §6),
 * namespaces resolved so that EDT's default namespace is matched on local names, and any
 * DOCTYPE refused (no DTD, no entity expansion: no billion laughs, no external entities).
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { InputError } from '../domain/problems.js';
import { type DecodedText, decodeInChunks } from './encoding.js';

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

/** Streams `bytes` through the handlers. Throws `InputError` (`xml-malformed`, `xml-doctype`). */
export function readXml(
  bytes: Uint8Array,
  handlers: XmlHandlers,
  options: { encoding?: DecodedText; onProgress?: (fraction: number) => void; chunkBytes?: number } = {},
): DecodedText {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: { element: XmlElement; text: string[] }[] = [];
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
    const attributes: Record<string, string> = {};
    for (const attr of Object.values(ns.attributes)) {
      if (attr.prefix === 'xmlns' || attr.name === 'xmlns') continue;
      attributes[attr.local] = attr.value;
    }
    // Siblings share one frozen ancestor array: no copy per element (most are leaves).
    const depth = names.length;
    let path = frozenPaths[depth];
    if (!path) {
      path = names.slice();
      frozenPaths[depth] = path;
    }
    const element: XmlElement = { name: ns.local, attributes, line: parser.line, path };
    names.push(ns.local);
    frozenPaths[depth + 1] = undefined;
    stack.push({ element, text: [] });
    if (!failure) {
      try {
        handlers.open?.(element);
      } catch (error) {
        fail(asInputError(error));
      }
    }
  });
  parser.on('text', (text) => {
    stack.at(-1)?.text.push(text);
  });
  parser.on('cdata', (text) => {
    stack.at(-1)?.text.push(text);
  });
  parser.on('closetag', () => {
    const top = stack.pop();
    names.pop();
    if (!top || failure) return;
    try {
      handlers.close?.(top.element, top.text.join(''));
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
  return used;
}

// Handler errors that are not input errors are our bugs: let them surface.
function asInputError(error: unknown): InputError {
  if (error instanceof InputError) return error;
  throw error;
}
