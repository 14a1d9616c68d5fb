import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/domain/problems.js';
import { readZipEntries } from '../../src/formats/zip.js';

function failure(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

/** Rewrites every occurrence of an entry name (local header and central directory). */
function renameEntry(zip: Uint8Array, from: string, to: string): Uint8Array {
  expect(to.length).toBe(from.length);
  const bytes = new Uint8Array(zip);
  const needle = Buffer.from(from, 'latin1');
  const text = Buffer.from(bytes);
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    bytes.set(Buffer.from(to, 'latin1'), at);
    count++;
  }
  expect(count).toBe(2);
  return bytes;
}

describe('readZipEntries', () => {
  it('returns every file by its path inside the zip, skipping directories', () => {
    const zip = zipSync({
      'a.txt': strToU8('hello'),
      'export/': {},
      'export/UDCal_24.xml': strToU8('<c/>'),
      'stored.bin': [new Uint8Array([1, 2, 3]), { level: 0 }],
    });
    const entries = readZipEntries(zip);
    expect([...entries.keys()].sort()).toEqual(['a.txt', 'export/UDCal_24.xml', 'stored.bin']);
    expect(Buffer.from(entries.get('a.txt') as Uint8Array).toString()).toBe('hello');
    expect(Buffer.from(entries.get('export/UDCal_24.xml') as Uint8Array).toString()).toBe('<c/>');
    expect([...(entries.get('stored.bin') as Uint8Array)]).toEqual([1, 2, 3]);
  });

  it('stops a zip bomb on the inflated bytes, whatever the header declares', () => {
    // 10 MB of zeros deflate to ~10 kB: a ratio near 1000.
    const zip = zipSync({ 'UDCal_12.xml': new Uint8Array(10 * 1024 * 1024) }, { level: 9 });
    expect(zip.length).toBeLessThan(20_000);
    const error = failure(() => readZipEntries(zip));
    expect(error.kind).toBe('too-large');
    expect(error.problems).toEqual([
      {
        code: 'zip-bomb',
        message: 'this entry inflates more than 200 times its compressed size (zip bomb?)',
        where: 'UDCal_12.xml',
      },
    ]);
  });

  it('stops at the caps even when the declared size is forged to look small', () => {
    const zip = zipSync({ 'big.xml': new Uint8Array(3 * 1024 * 1024).fill(65) }, { level: 9 });
    // Forge the declared uncompressed size (central directory, offset 24) down to 10 bytes.
    const forged = new Uint8Array(zip);
    const view = new DataView(forged.buffer);
    const central = Buffer.from(forged).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    view.setUint32(central + 24, 10, true);
    const error = failure(() => readZipEntries(forged, { maxEntryBytes: 1024 * 1024, maxRatio: 10_000 }));
    expect(error.kind).toBe('too-large');
    expect(error.problems[0]).toEqual({
      code: 'zip-entry-too-large',
      message: 'this entry inflates to more than 1048576 bytes',
      where: 'big.xml',
    });
    const total = failure(() =>
      readZipEntries(
        zipSync({ 'a.xml': new Uint8Array(600_000).fill(66), 'b.xml': new Uint8Array(600_000).fill(67) }),
        { maxTotalBytes: 1_000_000, maxRatio: 10_000 },
      ),
    );
    expect(total.problems[0]?.code).toBe('zip-too-large');
    expect(total.problems[0]?.where).toBe('b.xml');
  });

  it('refuses more entries than the cap', () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 12; i++) files[`f${i}.xml`] = strToU8('<x/>');
    const error = failure(() => readZipEntries(zipSync(files), { maxEntries: 10 }));
    expect(error.kind).toBe('too-large');
    expect(error.problems).toEqual([
      {
        code: 'zip-too-many-entries',
        message: 'the archive has 12 entries; at most 10 are accepted',
        where: 'end of central directory',
      },
    ]);
  });

  it.each([
    ['../evil.xml', 'a ".." segment'],
    ['a/../../b.xml', 'a ".." segment'],
    ['/etc/passwd', 'an absolute path'],
    ['C:/boot.ini', 'a drive letter'],
    ['dir\\x.xml', 'a backslash'],
  ])('refuses the zip-slip name %s', (name, reason) => {
    const placeholder = 'p'.repeat(name.length);
    const zip = renameEntry(zipSync({ [placeholder]: strToU8('x') }), placeholder, name);
    const error = failure(() => readZipEntries(zip));
    expect(error.kind).toBe('malformed');
    expect(error.problems).toEqual([
      {
        code: 'zip-unsafe-path',
        message: `entry name "${name}" is refused: it contains ${reason}`,
        where: name,
      },
    ]);
  });

  it('refuses a truncated archive', () => {
    const zip = zipSync({ 'UDCal_24.xml': strToU8('<c>'.repeat(1000)) });
    const error = failure(() => readZipEntries(zip.subarray(0, zip.length - 30)));
    expect(error.kind).toBe('malformed');
    expect(error.problems).toEqual([
      {
        code: 'zip-malformed',
        message: 'no end-of-central-directory record: not a zip archive, or a truncated one',
        where: 'end of central directory',
      },
    ]);
  });

  it('refuses an archive whose entry data was cut out', () => {
    const zip = zipSync({ 'UDCal_24.xml': strToU8('<c>'.repeat(1000)) });
    // Keep the directory but drop bytes from the middle of the compressed data.
    const holed = new Uint8Array([...zip.subarray(0, 40), ...zip.subarray(60)]);
    const error = failure(() => readZipEntries(holed));
    expect(error.kind).toBe('malformed');
    expect(error.problems[0]?.code).toBe('zip-malformed');
  });

  it('detects corrupt data through the CRC', () => {
    const zip = zipSync({ 'stored.xml': [strToU8('<c>bonjour</c>'), { level: 0 }] });
    const corrupt = new Uint8Array(zip);
    const at = Buffer.from(corrupt).indexOf(Buffer.from('bonjour'));
    corrupt[at] = 'B'.charCodeAt(0);
    const error = failure(() => readZipEntries(corrupt));
    expect(error.problems).toEqual([
      {
        code: 'zip-malformed',
        message: 'the CRC-32 of the entry does not match (corrupt archive)',
        where: 'stored.xml',
      },
    ]);
  });

  it('refuses bytes that are not a zip', () => {
    const error = failure(() => readZipEntries(strToU8('<?xml version="1.0"?><a/>')));
    expect(error.problems[0]?.code).toBe('zip-malformed');
    expect(error.kind).toBe('malformed');
  });
});
