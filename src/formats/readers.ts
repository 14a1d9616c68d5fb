/** The reader for each import format. */
import type { TimetableReader } from '../domain/reader.js';
import type { ImportFormat } from '../domain/timetable.js';
import { readEdt } from './edt.js';
import { readEdtEncrypted } from './edt-encrypted.js';
import { readIcs } from './ics.js';
import { readNativeJson } from './json.js';
import { readSts } from './sts.js';
import { readUdt } from './udt.js';

export const READERS: Record<ImportFormat, TimetableReader> = {
  json: readNativeJson,
  edt: readEdt,
  'edt-chiffre': readEdtEncrypted,
  udt: readUdt,
  sts: readSts,
  ics: readIcs,
};
