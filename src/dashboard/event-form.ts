/**
 * The event form of the week calendar page (events-page.tsx): its fields as sent (kept to show
 * them back), their translation into the body of `EventsService.create` (docs/events.md), and
 * the service's refusals (English problems with a `$.field` path) put back on the field they
 * concern, in French. The service's schema stays the only validation.
 */
import type { Problem } from '../domain/problems.js';

export const EVENT_FIELDS = ['titre', 'zone', 'date', 'debut', 'fin', 'jours', 'jusqua', 'sauf'] as const;
export type EventField = (typeof EVENT_FIELDS)[number];
export type EventFormValues = Record<Exclude<EventField, 'jours'>, string> & { jours: string[] };
export type EventFormErrors = Partial<Record<EventField, string>>;

export const EMPTY_EVENT_FORM: EventFormValues = {
  titre: '',
  zone: '',
  date: '',
  debut: '18:00',
  fin: '20:00',
  jours: [],
  jusqua: '',
  sauf: '',
};

export function readEventForm(form: URLSearchParams): EventFormValues {
  const text = (name: string) => (form.get(name) ?? '').trim().slice(0, 500);
  return {
    titre: text('titre'),
    zone: text('zone'),
    date: text('date'),
    debut: text('debut'),
    fin: text('fin'),
    jours: form.getAll('jours').filter((d) => /^[1-7]$/.test(d)),
    jusqua: text('jusqua'),
    sauf: text('sauf'),
  };
}

/** The API body: a recurrence when weekdays are ticked (until the given date, or the start date). */
export function eventBodyOf(values: EventFormValues): unknown {
  const weekdays = values.jours.map(Number);
  const except = values.sauf
    .split(/[\s,;]+/)
    .map((d) => d.trim())
    .filter((d) => d.length > 0);
  return {
    title: values.titre,
    start: `${values.date}T${values.debut}`,
    end: `${values.date}T${values.fin}`,
    target: { zone: values.zone },
    ...(weekdays.length > 0 ? { recurrence: { weekdays, until: values.jusqua || values.date, except } } : {}),
  };
}

/** Problems of the service on the form's fields, in French. */
export function eventFormErrorsOf(problems: readonly Problem[]): EventFormErrors {
  const errors: EventFormErrors = {};
  for (const p of problems) {
    const [field, message] = frenchOf(p);
    errors[field] ??= message;
  }
  return errors;
}

function frenchOf(p: Problem): [EventField, string] {
  if (p.where.startsWith('$.title')) return ['titre', 'Donnez un titre (200 caractères au plus).'];
  if (p.where.startsWith('$.target')) return ['zone', 'Choisissez une zone de l’établissement.'];
  if (p.where.startsWith('$.recurrence.until')) {
    return [
      'jusqua',
      p.code === 'recurrence-too-long'
        ? 'Une répétition dure au plus 400 jours.'
        : 'Une date de fin de répétition (AAAA-MM-JJ), au plus tôt le jour de l’évènement, est attendue.',
    ];
  }
  if (p.where.startsWith('$.recurrence.except'))
    return ['sauf', 'Des dates AAAA-MM-JJ séparées par des virgules sont attendues.'];
  if (p.where.startsWith('$.recurrence'))
    return ['jours', 'Cochez les jours de la semaine où l’évènement se répète.'];
  if (p.where.startsWith('$.end')) {
    return [
      'fin',
      p.code === 'end-before-start'
        ? 'L’heure de fin doit suivre l’heure de début.'
        : 'Une heure de fin HH:MM est attendue.',
    ];
  }
  if (p.where.startsWith('$.start'))
    return ['date', 'Une date (AAAA-MM-JJ) et une heure de début (HH:MM) sont attendues.'];
  if (p.code === 'too-many-events')
    return ['titre', 'L’établissement a atteint le nombre maximal d’évènements.'];
  return ['titre', p.message];
}
