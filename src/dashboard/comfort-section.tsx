/**
 * The comfort table of a school (issue 16; definitions in docs/telemetry.md, "Comfort"): per
 * zone with heating, occupied, cold, overheated and unmeasured minutes and the cold starts, each
 * start linking to its day's timelines (the lessons' time slots). Shared by the school page (the
 * week shown) and the comfort page (a chosen period), with the links to the CSV exports.
 */
import type { ComfortBody } from '../telemetry/comfort-report.js';
import { formatCelsius, formatNumber, localTime, shortDay } from './labels.js';
import { DASHBOARD_BASE, schoolHref } from './pages.js';

export function comfortHref(uai: string, from?: string, to?: string): string {
  const params = new URLSearchParams({
    ...(from === undefined ? {} : { du: from }),
    ...(to === undefined ? {} : { au: to }),
  });
  const query = params.toString();
  return `${DASHBOARD_BASE}/${uai}/confort${query === '' ? '' : `?${query}`}`;
}

export function comfortCsvHref(
  uai: string,
  kind: 'confort' | 'telemetrie-horaire',
  from: string,
  to: string,
): string {
  return `${DASHBOARD_BASE}/${uai}/${kind}.csv?${new URLSearchParams({ du: from, au: to }).toString()}`;
}

const minutesText = (value: number): string => formatNumber(value, 0);

export function ComfortSection(props: { body: ComfortBody; heading: string; otherPeriodLink?: boolean }) {
  const { body } = props;
  const d = body.definitions;
  return (
    <section id="confort" aria-labelledby="confort-titre">
      <h2 id="confort-titre">{props.heading}</h2>
      <p class="aide">
        Minutes d’occupation (cours de l’emploi du temps) du {frenchDate(body.from)} au {frenchDate(body.to)},
        calculées jusqu’au {frenchDateTime(body.computed_until, body.timezone)}. Froid : mesure inférieure à
        la consigne moins {formatCelsius(d.cold_tolerance_c)} ; surchauffe : mesure au-dessus de{' '}
        {formatCelsius(d.overheat_cap_c + d.overheat_tolerance_c)} ; une mesure vaut {d.hold_minutes} minutes
        au plus, au-delà le temps est « non mesuré ». Un démarrage est le début d’un cours après au moins{' '}
        {d.start_after_unoccupied_minutes} minutes sans occupation.
      </p>
      <table id="confort-zones">
        <caption>Confort de chaque zone (chauffage)</caption>
        <thead>
          <tr>
            <th scope="col">Zone</th>
            <th scope="col">Occupé (min)</th>
            <th scope="col">Froid (min)</th>
            <th scope="col">Surchauffe (min)</th>
            <th scope="col">Non mesuré (min)</th>
            <th scope="col">Démarrages</th>
            <th scope="col">Démarrages froids</th>
          </tr>
        </thead>
        <tbody>
          {body.zones.map((zone) => (
            <tr data-zone={zone.zone}>
              <th scope="row">{zone.name}</th>
              <td class="nombre">{minutesText(zone.occupied_minutes)}</td>
              <td class="nombre">{minutesText(zone.cold_minutes)}</td>
              <td class="nombre">{minutesText(zone.overheated_minutes)}</td>
              <td class="nombre">{minutesText(zone.unmeasured_minutes)}</td>
              <td class="nombre">{zone.starts}</td>
              <td>
                {zone.cold_starts === 0 ? (
                  '0'
                ) : (
                  <ul class="demarrages-froids">
                    {zone.occupancy_starts
                      .filter((s) => s.cold)
                      .map((s) => {
                        const at = Date.parse(s.at);
                        return (
                          <li>
                            <a
                              href={`${schoolHref(body.uai, localDateOf(s.at, body.timezone))}#frises-${zone.zone}`}
                            >
                              {shortDay(at, body.timezone)} à {localTime(at, body.timezone)}
                            </a>{' '}
                            : {s.measured_c === null ? '—' : formatCelsius(s.measured_c)} pour{' '}
                            {s.target_c === null ? '—' : formatCelsius(s.target_c)}
                          </li>
                        );
                      })}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ul class="exports">
        <li>
          <a href={comfortCsvHref(body.uai, 'confort', body.from, body.to)} download>
            Exporter le confort de la période (CSV)
          </a>
        </li>
        <li>
          <a href={comfortCsvHref(body.uai, 'telemetrie-horaire', body.from, body.to)} download>
            Exporter la télémétrie horaire de la période (CSV)
          </a>
        </li>
        {props.otherPeriodLink ? (
          <li>
            <a href={comfortHref(body.uai, body.from, body.to)}>Choisir une autre période</a>
          </li>
        ) : null}
      </ul>
    </section>
  );
}

function frenchDate(date: string): string {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}

function frenchDateTime(iso: string, timezone: string): string {
  const at = Date.parse(iso);
  return `${frenchDate(localDateOf(iso, timezone))} ${localTime(at, timezone)}`;
}

/** The local date `YYYY-MM-DD` of an ISO instant. */
function localDateOf(iso: string, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(Date.parse(iso));
}
