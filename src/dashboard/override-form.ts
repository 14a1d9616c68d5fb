/**
 * The override form of a school's page: its fields as sent (kept to show them back), their
 * validation into the body of `OverridesService.create` (zod, French messages next to each
 * field), and the service's refusals (English problems with a `$.field` path) put back on the
 * field they concern, in French.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import { ZONE_FUNCTIONS } from '../devices/schema.js';
import type { Problem } from '../domain/problems.js';
import { HEATING_MODES } from '../rules/schema.js';

export const OVERRIDE_FIELDS = [
  'zone',
  'fonction',
  'mode',
  'consigne',
  'fin',
  'duree_heures',
  'jusqua',
  'motif',
] as const;
export type OverrideField = (typeof OVERRIDE_FIELDS)[number];
export type OverrideFormValues = Record<OverrideField, string>;
export type OverrideFormErrors = Partial<Record<OverrideField, string>>;

/** Heating modes, then `on` for lighting and ventilation (`off` is shared). */
export const OVERRIDE_MODES = [...HEATING_MODES, 'on'] as const;
export const END_CHOICES = ['duree', 'jusqua', 'prochain-changement'] as const;

export const EMPTY_OVERRIDE_FORM: OverrideFormValues = {
  zone: '',
  fonction: 'heating',
  mode: 'comfort',
  consigne: '',
  fin: 'duree',
  duree_heures: '2',
  jusqua: '',
  motif: '',
};

const DECIMAL_SETPOINT = /^\d{1,2}([.,]\d)?$/;
const DECIMAL_HOURS = /^\d{1,3}([.,]\d{1,2})?$/;
const LOCAL_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

const formSchema = z
  .object({
    zone: z.string().trim().min(1, { error: 'Choisissez une zone.' }),
    fonction: z.enum(ZONE_FUNCTIONS, { error: 'Choisissez une fonction.' }),
    mode: z.enum(OVERRIDE_MODES, { error: 'Choisissez un mode.' }),
    consigne: z
      .string()
      .trim()
      .refine((v) => v === '' || DECIMAL_SETPOINT.test(v), {
        error: 'Indiquez une température en °C, par exemple 19 ou 18,5 (ou laissez vide).',
      }),
    fin: z.enum(END_CHOICES, { error: 'Choisissez comment la dérogation se termine.' }),
    duree_heures: z.string().trim(),
    jusqua: z.string().trim(),
    motif: z
      .string()
      .trim()
      .min(1, { error: 'Indiquez le motif : il figure dans le plan et dans le journal d’audit.' })
      .max(500, { error: 'Le motif tient en 500 caractères au plus.' }),
  })
  .superRefine((v, ctx) => {
    if (v.fin === 'duree' && (!DECIMAL_HOURS.test(v.duree_heures) || hoursOf(v.duree_heures) * 60 < 1)) {
      ctx.addIssue({
        code: 'custom',
        path: ['duree_heures'],
        message: 'Indiquez une durée en heures, par exemple 2 ou 1,5.',
      });
    }
    if (v.fin === 'jusqua' && !LOCAL_DATETIME.test(v.jusqua)) {
      ctx.addIssue({
        code: 'custom',
        path: ['jusqua'],
        message: 'Indiquez la date et l’heure de fin (heure locale de l’établissement).',
      });
    }
  });

export function readOverrideForm(form: URLSearchParams): OverrideFormValues {
  const values = { ...EMPTY_OVERRIDE_FORM };
  for (const field of OVERRIDE_FIELDS) values[field] = form.get(field) ?? '';
  return values;
}

/** The `POST /api/overrides` body the form stands for, or the errors per field. */
export function overrideBodyOf(
  values: OverrideFormValues,
  uai: string,
  timezone: string,
): { ok: true; body: Record<string, unknown> } | { ok: false; errors: OverrideFormErrors } {
  const parsed = formSchema.safeParse(values);
  if (!parsed.success) {
    const errors: OverrideFormErrors = {};
    for (const issue of parsed.error.issues) {
      const field = issue.path[0] as OverrideField;
      errors[field] ??= issue.message;
    }
    return { ok: false, errors };
  }
  const v = parsed.data;
  const body: Record<string, unknown> = {
    uai,
    zone: v.zone,
    function: v.fonction,
    mode: v.mode,
    reason: v.motif,
  };
  if (v.consigne !== '') body['setpoint_c'] = Number(v.consigne.replace(',', '.'));
  if (v.fin === 'duree') body['duration'] = Math.round(hoursOf(v.duree_heures) * 60);
  else if (v.fin === 'prochain-changement') body['until'] = 'next-change';
  else {
    const local = DateTime.fromISO(v.jusqua, { zone: timezone });
    if (!local.isValid) return { ok: false, errors: { jusqua: 'Cette date n’existe pas.' } };
    body['until'] = local.toISO({ suppressMilliseconds: true });
  }
  return { ok: true, body };
}

const FIELD_OF_PATH: Record<string, OverrideField> = {
  '$.zone': 'zone',
  '$.function': 'fonction',
  '$.mode': 'mode',
  '$.setpoint_c': 'consigne',
  '$.reason': 'motif',
  '$.duration': 'duree_heures',
};

const FRENCH_OF_CODE: Record<string, string> = {
  'function-not-in-zone': 'Cette zone ne pilote pas cette fonction.',
  'setpoint-not-applicable': 'Une consigne ne s’applique qu’au chauffage.',
  'setpoint-above-legal-cap':
    'Au-dessus du plafond légal de 19 °C (Code de l’énergie, R241-26) : une exception se déclare dans le fichier de règles, avec sa justification.',
  'until-not-future': 'La fin doit être dans le futur.',
  'override-too-long': 'Une dérogation dure 14 jours au plus.',
  'no-next-change':
    'Le plan de cette zone ne change pas dans les 14 jours : indiquez une durée ou une date de fin.',
  'not-found': 'Zone inconnue pour cet établissement.',
};

/** The service's problems on the form's fields, in French (a problem without a known field goes on `fin`). */
export function formErrorsOf(problems: readonly Problem[], values: OverrideFormValues): OverrideFormErrors {
  const errors: OverrideFormErrors = {};
  for (const problem of problems) {
    let field = FIELD_OF_PATH[problem.where];
    if (problem.where === '$.until') field = values.fin === 'jusqua' ? 'jusqua' : 'fin';
    if (problem.where === '$.mode' && problem.code === 'field-invalid') {
      errors.mode ??=
        'Ce mode ne convient pas à cette fonction (chauffage : confort, réduit, hors-gel, arrêt ; éclairage et ventilation : marche, arrêt).';
      continue;
    }
    const message = FRENCH_OF_CODE[problem.code] ?? `Valeur refusée (${problem.code}).`;
    errors[field ?? 'fin'] ??= message;
  }
  return errors;
}

function hoursOf(text: string): number {
  return Number(text.replace(',', '.'));
}
