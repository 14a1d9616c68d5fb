/**
 * The week calendar of a school's scheduled events beside its timetable (issue 20,
 * docs/dashboard.md, "Évènements"): one row per day of the week with the timetable's occupancy
 * and the events, the list of the school's events (a manager's can be deleted, a booking feed's
 * are read-only), and the form to create one. Server-rendered, no script: every control is a
 * native link, field or button, so the page works from the keyboard alone.
 */
import type { EventView } from '../bridge/events-service.js';
import type { EventFormErrors, EventFormValues } from './event-form.js';
import { Layout } from './layout.js';
import { DASHBOARD_BASE, type Viewer } from './pages.js';

export const EVENTS_FLASH: Record<string, string> = {
  'evenement-cree': 'Évènement créé : le plan en tient compte dès maintenant.',
  'evenement-supprime': 'Évènement supprimé : le plan en tient compte dès maintenant.',
};

export interface EventsDay {
  date: string;
  label: string;
  /** A short description of the timetable's occupancy that day. */
  timetable: string;
  occurrences: Array<{ time: string; title: string; where: string; source: string }>;
}

export interface EventsPageProps {
  viewer: Viewer;
  uai: string;
  name: string;
  timezone: string;
  monday: string;
  previous: string;
  next: string;
  days: EventsDay[];
  events: EventView[];
  zones: Array<{ id: string; name: string }>;
  form: EventFormValues;
  errors: EventFormErrors;
  flash?: string | undefined;
}

export function eventsHref(uai: string, week?: string, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams({ ...(week ? { semaine: week } : {}), ...extra }).toString();
  return `${DASHBOARD_BASE}/${uai}/evenements${query ? `?${query}` : ''}`;
}

const WEEKDAYS = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'];

export function EventsPage(props: EventsPageProps) {
  const { viewer, uai } = props;
  const title = `Évènements : ${props.name} (${uai})`;
  return (
    <Layout title={title} clientId={viewer.clientId} showVue={viewer.showVue}>
      <p>
        <a href={`${DASHBOARD_BASE}/${uai}`}>← Tableau de bord de l’établissement</a>
      </p>
      <h1>{title}</h1>
      <p>
        Réunions, locations de salles, examens : un évènement occupe ses salles comme un cours (préchauffage,
        éclairage et ventilation compris). Heures locales ({props.timezone}).
      </p>
      {props.flash && EVENTS_FLASH[props.flash] ? (
        <p class="ok" role="status">
          {EVENTS_FLASH[props.flash]}
        </p>
      ) : null}
      <nav class="jours" aria-label="Semaine affichée">
        <a href={eventsHref(uai, props.previous)} rel="prev">
          ← Semaine précédente
        </a>
        <a href={eventsHref(uai, props.next)} rel="next">
          Semaine suivante →
        </a>
        <form method="get" action={`${DASHBOARD_BASE}/${uai}/evenements`}>
          <div>
            <label for="semaine">Semaine du</label>
            <input id="semaine" name="semaine" type="date" value={props.monday} required />
          </div>
          <button type="submit" class="secondaire">
            Afficher
          </button>
        </form>
      </nav>
      <section aria-labelledby="semaine-titre">
        <h2 id="semaine-titre">Semaine du {props.days[0]?.label}</h2>
        <table id="calendrier">
          <caption>Emploi du temps et évènements, jour par jour</caption>
          <thead>
            <tr>
              <th scope="col">Jour</th>
              <th scope="col">Emploi du temps</th>
              <th scope="col">Évènements</th>
            </tr>
          </thead>
          <tbody>
            {props.days.map((day) => (
              <tr>
                <th scope="row">{day.label}</th>
                <td>{day.timetable}</td>
                <td>
                  {day.occurrences.length === 0 ? (
                    'Aucun'
                  ) : (
                    <ul>
                      {day.occurrences.map((o) => (
                        <li>
                          {o.time} : {o.title} ({o.where}, {o.source})
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <EventList {...props} />
      {viewer.canWrite ? <EventForm {...props} /> : null}
    </Layout>
  );
}

function EventList(props: EventsPageProps) {
  const { uai, viewer } = props;
  return (
    <section aria-labelledby="liste-titre">
      <h2 id="liste-titre">Évènements de l’établissement</h2>
      {props.events.length === 0 ? (
        <p>Aucun évènement.</p>
      ) : (
        <table id="evenements">
          <caption>Tous les évènements, manuels et issus des flux de réservation</caption>
          <thead>
            <tr>
              <th scope="col">Titre</th>
              <th scope="col">Quand</th>
              <th scope="col">Où</th>
              <th scope="col">Origine</th>
              {viewer.canWrite ? <th scope="col">Action</th> : null}
            </tr>
          </thead>
          <tbody>
            {props.events.map((e) => (
              <tr>
                <td>{e.title}</td>
                <td>{whenText(e)}</td>
                <td>{whereText(e.target, props.zones)}</td>
                <td>
                  {e.source === 'feed'
                    ? `flux ${e.feed_id ?? ''} (lecture seule)`
                    : `saisi par ${e.created_by}`}
                </td>
                {viewer.canWrite ? (
                  <td>
                    {e.source === 'manual' ? (
                      <form method="post" action={`${DASHBOARD_BASE}/${uai}/evenements/${e.id}/suppression`}>
                        <input type="hidden" name="semaine" value={props.monday} />
                        <button
                          type="submit"
                          class="secondaire"
                          aria-label={`Supprimer l’évènement « ${e.title} » (toutes ses dates)`}
                        >
                          Supprimer
                        </button>
                      </form>
                    ) : (
                      'Modifiable dans l’outil de réservation'
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function EventForm(props: EventsPageProps) {
  const { form, errors, uai } = props;
  const fieldErrors = Object.entries(errors) as Array<[string, string]>;
  const described = (field: keyof EventFormErrors, help?: string) => {
    const ids = [help, errors[field] ? `${field}-erreur` : undefined].filter(Boolean).join(' ');
    return ids ? { 'aria-describedby': ids } : {};
  };
  const invalid = (field: keyof EventFormErrors) => (errors[field] ? { 'aria-invalid': 'true' } : {});
  const error = (field: keyof EventFormErrors) =>
    errors[field] ? (
      <p class="erreur" id={`${field}-erreur`}>
        {errors[field]}
      </p>
    ) : null;
  return (
    <section aria-labelledby="nouvel-evenement">
      <h2 id="nouvel-evenement">Nouvel évènement</h2>
      {fieldErrors.length > 0 ? (
        <div class="resume-erreurs" role="alert">
          <p>L’évènement n’a pas été créé :</p>
          <ul>
            {fieldErrors.map(([field, message]) => (
              <li>
                <a href={`#${field === 'jours' ? 'jours-1' : field}`}>{message}</a>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <form method="post" action={`${DASHBOARD_BASE}/${uai}/evenements`}>
        <input type="hidden" name="semaine" value={props.monday} />
        <label for="titre">Titre</label>
        <input
          id="titre"
          name="titre"
          type="text"
          value={form.titre}
          maxlength={200}
          required
          {...invalid('titre')}
          {...described('titre')}
        />
        {error('titre')}
        <label for="zone">Zone</label>
        <select id="zone" name="zone" required {...invalid('zone')} {...described('zone')}>
          <option value="">— choisir —</option>
          {props.zones.map((z) => (
            <option value={z.id} selected={z.id === form.zone}>
              {z.name}
            </option>
          ))}
        </select>
        {error('zone')}
        {/* Text fields with their format said: typed the same whatever the browser's language (a
            date field's segments follow the browser's locale, not the page's). */}
        <label for="date">Date (AAAA-MM-JJ)</label>
        <input
          id="date"
          name="date"
          type="text"
          inputmode="numeric"
          pattern="\d{4}-\d{2}-\d{2}"
          value={form.date}
          required
          {...invalid('date')}
          {...described('date')}
        />
        {error('date')}
        <label for="debut">Heure de début (HH:MM)</label>
        <input
          id="debut"
          name="debut"
          type="text"
          inputmode="numeric"
          pattern="\d{2}:\d{2}"
          value={form.debut}
          required
          {...invalid('debut')}
          {...described('debut')}
        />
        {error('debut')}
        <label for="fin">Heure de fin (HH:MM)</label>
        <input
          id="fin"
          name="fin"
          type="text"
          inputmode="numeric"
          pattern="\d{2}:\d{2}"
          value={form.fin}
          required
          {...invalid('fin')}
          {...described('fin')}
        />
        {error('fin')}
        <fieldset {...described('jours', 'jours-aide')}>
          <legend>Répéter chaque semaine le (facultatif)</legend>
          <p class="aide" id="jours-aide">
            Sans jour coché, l’évènement a lieu une fois.
          </p>
          <div class="choix">
            {WEEKDAYS.map((day, i) => (
              <>
                <input
                  type="checkbox"
                  id={`jours-${i + 1}`}
                  name="jours"
                  value={String(i + 1)}
                  checked={form.jours.includes(String(i + 1))}
                />
                <label for={`jours-${i + 1}`}>{day}</label>
              </>
            ))}
          </div>
          {error('jours')}
        </fieldset>
        <label for="jusqua">Jusqu’au, inclus, si répété (AAAA-MM-JJ)</label>
        <input
          id="jusqua"
          name="jusqua"
          type="text"
          inputmode="numeric"
          pattern="\d{4}-\d{2}-\d{2}"
          value={form.jusqua}
          {...invalid('jusqua')}
          {...described('jusqua')}
        />
        {error('jusqua')}
        <label for="sauf">Sauf les (dates AAAA-MM-JJ séparées par des virgules)</label>
        <input
          id="sauf"
          name="sauf"
          type="text"
          value={form.sauf}
          {...invalid('sauf')}
          {...described('sauf')}
        />
        {error('sauf')}
        <div class="envoi">
          <button type="submit">Créer l’évènement</button>
        </div>
      </form>
    </section>
  );
}

function whenText(e: EventView): string {
  const time = `${e.start.slice(11)}–${e.end.slice(11)}`;
  const date = frenchDate(e.start.slice(0, 10));
  if (!e.recurrence) return `${date}, ${time}`;
  const days = e.recurrence.weekdays.map((d) => WEEKDAYS[d - 1]).join(', ');
  const except =
    e.recurrence.except.length > 0 ? `, sauf ${e.recurrence.except.map(frenchDate).join(', ')}` : '';
  return `chaque ${days}, ${time}, du ${date} au ${frenchDate(e.recurrence.until)}${except}`;
}

export function whereText(
  target: EventView['target'],
  zones: ReadonlyArray<{ id: string; name: string }>,
): string {
  if ('zone' in target) return `zone ${zones.find((z) => z.id === target.zone)?.name ?? target.zone}`;
  return `${target.rooms.length > 1 ? 'salles' : 'salle'} ${target.rooms.join(', ')}`;
}

function frenchDate(date: string): string {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}

export function weekdayLabel(date: string): string {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return `${WEEKDAYS[(day + 6) % 7]} ${frenchDate(date)}`;
}
