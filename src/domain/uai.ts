/**
 * UAI (Unité Administrative Immatriculée, formerly RNE; "UAJ" in STS files):
 * seven digits and a check letter = ALPHABET[N mod 23], N the seven digits as an integer.
 * @see docs/formats.md, "UAI" (rule checked against 0670080Y and 0750654D)
 */
import { z } from 'zod';
import { InputError } from './problems.js';

const CHECK_ALPHABET = 'ABCDEFGHJKLMNPRSTUVWXYZ';

export type UaiProblem = 'format' | 'check-letter';

/** Returns the expected check letter for seven digits. */
export function uaiCheckLetter(digits: string): string {
  const n = Number.parseInt(digits, 10);
  return CHECK_ALPHABET.charAt(n % 23);
}

/** Upper-cases and trims; returns null when the text cannot be a UAI at all. */
export function normaliseUai(text: string): string {
  return text.trim().toUpperCase();
}

/** Why `text` is not a valid UAI, or null when it is. */
export function uaiProblem(text: string): UaiProblem | null {
  const uai = normaliseUai(text);
  const match = /^(\d{7})([A-Z])$/.exec(uai);
  if (!match) return 'format';
  const [, digits, letter] = match as unknown as [string, string, string];
  return uaiCheckLetter(digits) === letter ? null : 'check-letter';
}

export function isValidUai(text: string): boolean {
  return uaiProblem(text) === null;
}

/** Explains a bad UAI in one sentence (for error messages). */
export function describeUaiProblem(text: string): string | null {
  const problem = uaiProblem(text);
  if (problem === null) return null;
  const uai = normaliseUai(text);
  if (problem === 'format') return `"${text}" is not a UAI: expected 7 digits and a check letter`;
  return `UAI ${uai} has a wrong check letter: expected ${uai.slice(0, 7)}${uaiCheckLetter(uai.slice(0, 7))}`;
}

/**
 * Département code from the UAI prefix ("067" → "67", "0971234A" → "971").
 * Overseas UAIs start with 97x; Corsica uses 620 (2A) and 720 (2B) prefixes.
 */
export function departementOfUai(uai: string): string {
  const prefix = uai.slice(0, 3);
  if (prefix === '097') return uai.slice(1, 4);
  if (prefix === '620') return '2A';
  if (prefix === '720') return '2B';
  return String(Number.parseInt(prefix, 10)).padStart(2, '0');
}

/**
 * A UAI given by a caller (URL path, query, option), normalised; `InputError` `bad-uai` (400,
 * CLI exit 2) naming `where` when no school can have it: refusing it reveals nothing.
 */
export function requireUai(text: string, where: string): string {
  const uai = normaliseUai(text);
  const problem = describeUaiProblem(uai);
  if (problem) throw InputError.of('bad-uai', problem, where, 'malformed');
  return uai;
}

/** A UAI from a route's path (`uai (path)`). */
export function pathUai(text: string): string {
  return requireUai(text, 'uai (path)');
}

/** The published form of a UAI parameter (its check letter is checked too, see uaiParameterSchema). */
export const UAI_PATTERN = '^[0-9]{7}[A-Za-z]$';

/**
 * A UAI parameter as routes validate and document it: 7 digits and a check letter, case-insensitive;
 * a wrong one is `bad-uai` naming `where` (`uai (path)`, `uai (query)`), the same problem as
 * `requireUai`. The check letter is described, not expressible as a pattern.
 */
export function uaiParameterSchema(where: string) {
  return z
    .string({ error: `give the school: ${where}` })
    .superRefine((text, ctx) => {
      const problem = describeUaiProblem(normaliseUai(text));
      if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { code: 'bad-uai', where } });
    })
    .meta({
      pattern: UAI_PATTERN,
      description:
        'UAI of the school: 7 digits and a check letter (ALPHABET[N mod 23], docs/formats.md, "UAI")',
    });
}
