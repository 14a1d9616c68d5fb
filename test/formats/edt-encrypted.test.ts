import { constants, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/domain/problems.js';
import { readEdt } from '../../src/formats/edt.js';
import { readEdtEncrypted } from '../../src/formats/edt-encrypted.js';
import { buildEncryptedEdt, type ContainerOptions } from '../fixtures/edt/encrypted-container.js';

const clear = readFileSync(new URL('../fixtures/edt/exemple-0679999E.xml', import.meta.url));
const expected = readEdt(clear);

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
const ours = keyPair();
const theirs = keyPair();

function container(overrides: Partial<ContainerOptions> = {}): Buffer {
  return buildEncryptedEdt({
    clear,
    partners: [{ name: 'SCOPE', publicKeyPem: ours.publicKeyPem }],
    ...overrides,
  });
}

function problemsOf(run: () => unknown): { kind: string; problems: { code: string; where: string }[] } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    const e = error as InputError;
    return { kind: e.kind, problems: e.problems.map((p) => ({ code: p.code, where: p.where })) };
  }
  throw new Error('expected an InputError');
}

const withKey = { partnerPrivateKeyPem: ours.privateKeyPem };
const expectedTimetable = {
  ...expected.timetable,
  name: 'Lycée Exemple',
  source: { format: 'edt-chiffre', software: 'EDT 2025', exported_at: '2025-06-30T18:00:00' },
};

describe('readEdtEncrypted', () => {
  it('decrypts, inflates, checks and reads the worked example', () => {
    const result = readEdtEncrypted(container(), withKey);
    expect(result).toEqual({ timetable: expectedTimetable, warnings: [] });
    expect(result.timetable.lessons).toHaveLength(5);
    expect(result.timetable.cancellations).toEqual([{ lesson: 'J1P1:PH-CH:B012', date: '2025-09-15' }]);
  });

  it('finds our block among two partners, with base64 wrapped over lines', () => {
    const bytes = container({
      partners: [
        { name: 'AUTRE ENT', publicKeyPem: theirs.publicKeyPem },
        { name: 'SCOPE', publicKeyPem: ours.publicKeyPem },
      ],
      wrap: true,
    });
    expect(readEdtEncrypted(bytes, withKey).timetable).toEqual(expectedTimetable);
  });

  it('reads a payload that was not compressed (CompresseAvantChiffrement="false")', () => {
    expect(readEdtEncrypted(container({ compress: false }), withKey).timetable).toEqual(expectedTimetable);
  });

  it('accepts a VERIFICATION computed over the inflated document (the XSD reading)', () => {
    expect(readEdtEncrypted(container({ verificationOf: 'clear' }), withKey).timetable).toEqual(
      expectedTimetable,
    );
  });

  it('reads a clear document that starts with a UTF-8 BOM', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), clear]);
    expect(readEdtEncrypted(container({ clear: bom }), withKey).timetable).toEqual(expectedTimetable);
  });

  it('reports progress up to 1', () => {
    const seen: number[] = [];
    readEdtEncrypted(container(), { ...withKey, onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((f, i) => i === 0 || f >= (seen[i - 1] as number))).toBe(true);
  });

  it('without a configured key: edt-key-missing, unsupported', () => {
    expect(problemsOf(() => readEdtEncrypted(container()))).toEqual({
      kind: 'unsupported',
      problems: [{ code: 'edt-key-missing', where: 'line 1, EXPORT_INDEX_EDUCATION' }],
    });
  });

  it('with another partner key: edt-decrypt-failed', () => {
    const bytes = container({ partners: [{ name: 'AUTRE ENT', publicKeyPem: theirs.publicKeyPem }] });
    expect(problemsOf(() => readEdtEncrypted(bytes, withKey))).toEqual({
      kind: 'invalid',
      problems: [{ code: 'edt-decrypt-failed', where: 'line 6, CLES/PARTENAIRE' }],
    });
  });

  it('with a wrapped key whose MD5 does not match: edt-decrypt-failed', () => {
    const bytes = container({ wrappedKey: (key, iv) => Buffer.concat([key, iv, Buffer.alloc(16, 7)]) });
    expect(problemsOf(() => readEdtEncrypted(bytes, withKey)).problems).toEqual([
      { code: 'edt-decrypt-failed', where: 'line 6, CLES/PARTENAIRE' },
    ]);
  });

  it('with a block that is not PKCS#1 v1.5 padded: edt-decrypt-failed', () => {
    const good = container().toString('utf8');
    const raw = Buffer.alloc(256, 0x55);
    raw[0] = 0; // below the modulus, but no 00 02 header
    const block = publicEncrypt({ key: ours.publicKeyPem, padding: constants.RSA_NO_PADDING }, raw);
    const bytes = Buffer.from(
      good.replace(/(<PARTENAIRE NOM="SCOPE">)[^<]+/, `$1${block.toString('base64')}`),
    );
    expect(problemsOf(() => readEdtEncrypted(bytes, withKey)).problems).toEqual([
      { code: 'edt-decrypt-failed', where: 'line 6, CLES/PARTENAIRE' },
    ]);
  });

  it('with a tampered payload: edt-checksum', () => {
    // Flipping a byte of the first cipher block garbles that block only; the padding stays valid.
    const bytes = container({
      compress: false,
      tamper: (encrypted) => {
        encrypted[3] = (encrypted[3] as number) ^ 0xff;
      },
    });
    expect(problemsOf(() => readEdtEncrypted(bytes, withKey))).toEqual({
      kind: 'invalid',
      problems: [{ code: 'edt-checksum', where: 'line 9, VERIFICATION' }],
    });
  });

  it('with a compressed payload tampered so it no longer inflates: edt-checksum', () => {
    const bytes = container({
      tamper: (encrypted) => {
        encrypted[20] = (encrypted[20] as number) ^ 0x01;
      },
    });
    expect(problemsOf(() => readEdtEncrypted(bytes, withKey)).problems).toEqual([
      { code: 'edt-checksum', where: 'line 9, VERIFICATION' },
    ]);
  });

  it('with a VERIFICATION of other bytes: edt-checksum', () => {
    const bytes = container({ verification: Buffer.alloc(32, 1).toString('base64') });
    expect(problemsOf(() => readEdtEncrypted(bytes, withKey)).problems).toEqual([
      { code: 'edt-checksum', where: 'line 9, VERIFICATION' },
    ]);
  });

  it('with a container UAI that differs from the document: uai-mismatch', () => {
    const bytes = container({ uai: '0670080Y' });
    expect(problemsOf(() => readEdtEncrypted(bytes, withKey))).toEqual({
      kind: 'invalid',
      problems: [{ code: 'uai-mismatch', where: 'line 11, UAI' }],
    });
  });

  it('compares UAIs case-insensitively', () => {
    expect(readEdtEncrypted(container({ uai: '0679999e' }), withKey).timetable.uai).toBe('0679999E');
  });

  it('a clear export given as encrypted: edt-not-container', () => {
    expect(problemsOf(() => readEdtEncrypted(clear, withKey))).toEqual({
      kind: 'invalid',
      problems: [{ code: 'edt-not-container', where: 'line 2, ExportEmploiDuTemps' }],
    });
  });

  it('an inner document that is not an EDT export: edt-not-export', () => {
    const bytes = container({ clear: Buffer.from('<?xml version="1.0"?>\n<Autre/>') });
    expect(problemsOf(() => readEdtEncrypted(bytes, withKey)).problems).toEqual([
      { code: 'edt-not-export', where: 'line 2, Autre' },
    ]);
  });
});
