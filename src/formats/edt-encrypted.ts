/**
 * EDT encrypted container (`EXPORT_INDEX_EDUCATION`), as Index Education sends it to a registered
 * ENT partner, unwrapped to the clear `ExportEmploiDuTemps` and read with `readEdt`.
 * @see docs/formats.md, "EDT encrypted container"
 *
 * The algorithm, and where each step comes from:
 * - Confirmed in edificeio/entcore `feeder/…/timetable/edt/EDTUtils.java#decryptExport` (commits
 *   27745e45, eaac352d) with edificeio/web-utils `Md5`, `Sha256`, `ZLib`:
 *   the `PARTENAIRE` text is base64 of an RSA block decrypted with "RSA/ECB/PKCS1Padding"
 *   (PKCS#1 v1.5 type 2); the 48 plain bytes are AES key (0–15), IV (16–31) and MD5(key ‖ IV)
 *   (32–47), checked; `CONTENU` is base64 of AES-128-CBC with PKCS#5/7 padding; it is zlib-inflated
 *   (zlib header, java.util.zip.Inflater) when `@CompresseAvantChiffrement` is true, its default;
 *   `VERIFICATION` is base64 of the SHA-256 of the decrypted bytes *before* inflating.
 * - Confirmed in laclasse-com/service-cahiertextes `lib/pronote.rb#decrypt_xml`: the same RSA
 *   (OpenSSL's default PKCS#1 v1.5), key/IV split, AES-128-CBC and zlib inflate; it skips the checks.
 * - Inferred: Index's `ConteneurExportChiffre.xsd` documents VERIFICATION as "Hash SHA256 du
 *   contenu non chiffré", which could also mean the inflated document, so that hash is accepted too.
 *   Which PARTENAIRE is ours: entcore matches `@NOM` against a configured name; we only hold a key,
 *   so each PARTENAIRE block (at most 2 by the XSD) is tried and the one passing the MD5 check wins.
 *   The BOM of the clear document is dropped by the encoding detection that `readEdt` runs.
 *
 * Node ≥ 20.11 refuses `privateDecrypt` with RSA_PKCS1_PADDING (CVE-2023-46809, the Marvin
 * attack), so the block is decrypted raw (RSA_NO_PADDING) and unpadded here without branching on
 * the secret bytes; every failure until the MD5 check answers the same `edt-decrypt-failed`, so the
 * upload route is no padding oracle.
 */
import {
  constants,
  createDecipheriv,
  createHash,
  createPrivateKey,
  type KeyObject,
  privateDecrypt,
} from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { InputError } from '../domain/problems.js';
import { inputLimits, type ReaderOptions, type ReadResult, type TimetableReader } from '../domain/reader.js';
import { normaliseUai } from '../domain/uai.js';
import { readEdt } from './edt.js';
import { readXml } from './xml.js';

const ROOT = 'EXPORT_INDEX_EDUCATION';
const WRAPPED_KEY_BYTES = 48;
/** Inflated size cap: a 30 MB export is large (performance.md); 8× that stops a zlib bomb early. */
export const EDT_MAX_INFLATED_BYTES = 256 * 1024 * 1024;

interface Container {
  partners: { name: string; text: string; line: number }[];
  content: string | undefined;
  contentLine: number;
  compressed: boolean;
  verification: string | undefined;
  verificationLine: number;
  uai: string | undefined;
  uaiLine: number;
  schoolName: string | undefined;
  software: string | undefined;
  exportedAt: string | undefined;
}

export const readEdtEncrypted: TimetableReader = (
  bytes: Uint8Array,
  options: ReaderOptions = {},
): ReadResult => {
  const progress = options.onProgress;
  const container = readContainer(bytes, progress ? (f) => progress(f * 0.2) : undefined, options);
  if (!options.partnerPrivateKeyPem) {
    throw InputError.of(
      'edt-key-missing',
      'this is an encrypted EDT export and no ENT partner private key is configured: send a clear export (format=edt) or configure the key',
      `line 1, ${ROOT}`,
      'unsupported',
    );
  }
  const privateKey = loadKey(options.partnerPrivateKeyPem);
  if (container.content === undefined) {
    throw InputError.of('edt-container-invalid', 'the container has no CONTENU', `line 1, ${ROOT}`);
  }
  if (container.verification === undefined) {
    throw InputError.of('edt-container-invalid', 'the container has no VERIFICATION', `line 1, ${ROOT}`);
  }

  const wrapped = unwrapKey(container, privateKey);
  const contentWhere = `line ${container.contentLine}, CONTENU`;
  let decrypted: Buffer;
  try {
    const decipher = createDecipheriv('aes-128-cbc', wrapped.key, wrapped.iv);
    decrypted = Buffer.concat([decipher.update(base64(container.content, contentWhere)), decipher.final()]);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw decryptFailed(contentWhere);
  }

  const expected = digestBytes(container.verification, `line ${container.verificationLine}, VERIFICATION`);
  const hashOfDecrypted = sha256(decrypted);
  let clear: Buffer;
  if (container.compressed) {
    const inflated = inflate(decrypted, contentWhere, hashOfDecrypted.equals(expected));
    if (!hashOfDecrypted.equals(expected) && !(inflated && sha256(inflated).equals(expected))) {
      throw checksumFailed(container.verificationLine);
    }
    clear = inflated as Buffer;
  } else {
    if (!hashOfDecrypted.equals(expected)) throw checksumFailed(container.verificationLine);
    clear = decrypted;
  }

  const result = readEdt(clear, {
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.strict ? { strict: true } : {}),
    ...(progress ? { onProgress: (f: number) => progress(0.2 + f * 0.8) } : {}),
  });
  const inner = result.timetable;
  if (container.uai !== undefined && inner.uai !== undefined && container.uai !== inner.uai) {
    throw InputError.of(
      'uai-mismatch',
      `the container says UAI ${container.uai} but the encrypted export says ${inner.uai}`,
      `line ${container.uaiLine}, UAI`,
    );
  }
  const uai = inner.uai ?? container.uai;
  return {
    timetable: {
      ...inner,
      ...(uai ? { uai } : {}),
      ...(container.schoolName ? { name: container.schoolName } : {}),
      source: {
        format: 'edt-chiffre',
        software: container.software ?? 'EDT',
        ...(container.exportedAt ? { exported_at: container.exportedAt } : {}),
      },
    },
    warnings: result.warnings,
  };
};

function readContainer(
  bytes: Uint8Array,
  onProgress: ((f: number) => void) | undefined,
  options: ReaderOptions,
): Container {
  const { maxXmlDepth, maxXmlElements } = inputLimits(options);
  const container: Container = {
    partners: [],
    content: undefined,
    contentLine: 0,
    compressed: true,
    verification: undefined,
    verificationLine: 0,
    uai: undefined,
    uaiLine: 0,
    schoolName: undefined,
    software: undefined,
    exportedAt: undefined,
  };
  let contentLine = 0;
  readXml(
    bytes,
    {
      open(e) {
        if (e.path.length === 0 && e.name !== ROOT) {
          throw InputError.of(
            'edt-not-container',
            `the root element is <${e.name}>, not <${ROOT}>: this is not an encrypted EDT export`,
            `line ${e.line}, ${e.name}`,
          );
        }
        if (e.name === 'CONTENU' && e.path.length === 1) {
          contentLine = e.line;
          const flag = e.attributes['CompresseAvantChiffrement']?.trim();
          // xs:boolean; the XSD default is true (entcore's generated EDTEncryptedExport).
          container.compressed = !(flag === 'false' || flag === '0');
        }
      },
      close(e, text) {
        const value = text.trim();
        if (e.path.length === 2 && e.name === 'PARTENAIRE' && e.path[1] === 'CLES') {
          container.partners.push({ name: e.attributes['NOM'] ?? '', text: value, line: e.line });
          return;
        }
        if (e.path.length !== 1) return;
        switch (e.name) {
          case 'CONTENU':
            container.content = value;
            container.contentLine = contentLine;
            return;
          case 'VERIFICATION':
            container.verification = value;
            container.verificationLine = e.line;
            return;
          case 'UAI':
            if (value) {
              container.uai = normaliseUai(value);
              container.uaiLine = e.line;
            }
            return;
          case 'NOMETABLISSEMENT':
            if (value) container.schoolName = value;
            return;
          case 'LOGICIEL':
            if (value) container.software = value;
            return;
          case 'DATEHEURE':
            if (value) container.exportedAt = value;
            return;
          default:
            return;
        }
      },
    },
    { ...(onProgress ? { onProgress } : {}), guards: { maxDepth: maxXmlDepth, maxElements: maxXmlElements } },
  );
  return container;
}

function loadKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    // Our configuration, not the uploader's input: a server error, with the cause for the log.
    throw new Error('the configured EDT partner private key cannot be read as a PEM private key', {
      cause: error,
    });
  }
}

/** Tries each PARTENAIRE block; returns the AES key and IV of the first that passes the MD5 check. */
function unwrapKey(container: Container, privateKey: KeyObject): { key: Buffer; iv: Buffer } {
  const modulusBytes = Math.ceil((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  for (const partner of container.partners) {
    const block = Buffer.from(partner.text, 'base64');
    if (block.length !== modulusBytes) continue;
    let raw: Buffer;
    try {
      raw = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, block);
    } catch {
      continue;
    }
    const plain = unpadPkcs1Type2(raw, WRAPPED_KEY_BYTES);
    const check = createHash('md5').update(plain.subarray(0, 32)).digest();
    if (check.equals(plain.subarray(32, 48)))
      return { key: plain.subarray(0, 16), iv: plain.subarray(16, 32) };
  }
  const where = container.partners[0] ? `line ${container.partners[0].line}, CLES/PARTENAIRE` : 'CLES';
  throw decryptFailed(where);
}

/**
 * PKCS#1 v1.5 encryption block `00 02 PS(≥8 non-zero) 00 M`, unpadded when M has `length` bytes.
 * The whole block is scanned whatever its content, and a bad block yields zero bytes of the right
 * length (that then fail the MD5 check) rather than an early, timeable exit.
 */
function unpadPkcs1Type2(block: Buffer, length: number): Buffer {
  const n = block.length;
  let good = (block[0] === 0 ? 1 : 0) & (block[1] === 2 ? 1 : 0);
  let separator = 0;
  let found = 0;
  for (let i = 2; i < n; i++) {
    const isZero = block[i] === 0 ? 1 : 0;
    const first = isZero & (found ^ 1);
    separator = first ? i : separator;
    found |= isZero;
  }
  good &= found & (separator >= 10 ? 1 : 0) & (n - separator - 1 === length ? 1 : 0);
  const out = Buffer.alloc(length);
  const start = n - length;
  for (let i = 0; i < length; i++) out[i] = (block[start + i] as number) * good;
  return out;
}

function inflate(data: Buffer, where: string, checksumMatched: boolean): Buffer | undefined {
  try {
    return inflateSync(data, { maxOutputLength: EDT_MAX_INFLATED_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw InputError.of(
        'edt-too-large',
        `the decrypted export inflates past ${EDT_MAX_INFLATED_BYTES / 1024 / 1024} MiB`,
        where,
        'too-large',
      );
    }
    if (!checksumMatched) return undefined;
    throw InputError.of(
      'edt-inflate-failed',
      'the decrypted content is not valid zlib data',
      where,
      'malformed',
    );
  }
}

function base64(text: string, where: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw InputError.of('edt-container-invalid', 'the content is not base64', where, 'malformed');
  }
  return Buffer.from(compact, 'base64');
}

/** VERIFICATION is xs:base64Binary; a hexadecimal digest is accepted as well. */
function digestBytes(text: string, where: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(compact)) return Buffer.from(compact, 'hex');
  const bytes = base64(compact, where);
  if (bytes.length !== 32) {
    throw InputError.of('edt-container-invalid', 'VERIFICATION is not a SHA-256 digest', where, 'malformed');
  }
  return bytes;
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function decryptFailed(where: string): InputError {
  return InputError.of(
    'edt-decrypt-failed',
    'the export cannot be decrypted with the configured partner key (another partner, or a damaged file)',
    where,
  );
}

function checksumFailed(line: number): InputError {
  return InputError.of(
    'edt-checksum',
    'the decrypted export does not match its SHA-256 VERIFICATION: the file is damaged or was altered',
    `line ${line}, VERIFICATION`,
  );
}
