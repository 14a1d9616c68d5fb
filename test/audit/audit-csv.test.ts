import { describe, expect, it } from 'vitest';
import { auditCsv } from '../../src/audit/audit-csv.js';
import type { AuditEntry } from '../../src/domain/audit-entry.js';
import { canonicalJson } from '../../src/domain/audit-entry.js';

const entry: AuditEntry = {
  seq: 7,
  at: '2026-11-30T07:00:00.000Z',
  kind: 'override',
  uai: '0670080Y',
  zone: 'aile-b',
  actor: 'manager',
  detail: { reason: 'Réunion "parents"; salle polyvalente' },
  prevHash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
};

describe('audit CSV', () => {
  it('starts with the UTF-8 BOM, separates with ";", quotes as RFC 4180 and keeps accents', () => {
    const csv = auditCsv([entry, { ...entry, seq: 8, uai: null, zone: null, detail: {} }]);
    const bytes = Buffer.from(csv, 'utf8');
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv).toBe(
      '\uFEFFseq;at;kind;uai;zone;actor;detail;prev_hash;hash\r\n' +
        `7;2026-11-30T07:00:00.000Z;override;0670080Y;aile-b;manager;"{""reason"":""Réunion \\""parents\\""; salle polyvalente""}";${'a'.repeat(64)};${'b'.repeat(64)}\r\n` +
        `8;2026-11-30T07:00:00.000Z;override;;;manager;{};${'a'.repeat(64)};${'b'.repeat(64)}\r\n`,
    );
    // "é" is the two UTF-8 bytes C3 A9, not a Windows-1252 E9.
    expect(bytes.includes(Buffer.from([0xc3, 0xa9]))).toBe(true);
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });
});
