/**
 * The one shape for everything that goes wrong with input: `{code, message, where}`.
 * Readers, the ENTRÉE route and the CLI all report with it (docs/api.md, "SCOPE-ENTRÉE imports").
 */
export interface Problem {
  /** Stable machine code, kebab-case: `bad-uai`, `xml-malformed`, `room-undeclared`… */
  code: string;
  /** One sentence for a person, in English. */
  message: string;
  /** Where: `line 12, column 4`, `Cours[3]/Salle`, `$.lessons[2].end`, `UDCal_12.xml`, or a file path. */
  where: string;
}

/** How the input was wrong, which decides the HTTP status (and CLI exit 2 for all). */
export type InputErrorKind =
  /** syntactically wrong, unknown format parameter, bad encoding: 400 */
  | 'malformed'
  /** a well-formed document whose content breaks a rule: 422 */
  | 'invalid'
  /** a media type or format we cannot read: 415 */
  | 'unsupported'
  /** over a size limit: 413 */
  | 'too-large';

/** Thrown by pure readers and validators for bad input; never for our own bugs. */
export class InputError extends Error {
  readonly problems: Problem[];
  readonly kind: InputErrorKind;

  constructor(problems: Problem[] | Problem, kind: InputErrorKind = 'invalid') {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.map((p) => `${p.where}: ${p.message}`).join('; '));
    this.name = 'InputError';
    this.problems = list;
    this.kind = kind;
  }

  static of(code: string, message: string, where: string, kind: InputErrorKind = 'invalid'): InputError {
    return new InputError([{ code, message, where }], kind);
  }
}

export function isInputError(error: unknown): error is InputError {
  return error instanceof InputError;
}
