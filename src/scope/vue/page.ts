/**
 * The HTML of SCOPE-VUE: the week grid (a real `<table>` with column and row headers) and the
 * data-quality panel whose links open the week of each lesson concerned, scrolled to it and
 * highlighted (`?cours=` and `#cours-…`).
 */
import { html } from 'hono/html';
import { addDays } from '../../domain/dates.js';
import { type Finding, frenchDate, type LessonRef, MAX_ITEMS, weekdayName } from './data-quality.js';
import { type Html, layout } from './layout.js';
import { lessonAnchor } from './lesson-dates.js';
import type { GridEntry, GridItem, GridPile, WeekGrid } from './week-grid.js';

export const VUE_BASE = '/scope/vue';

export interface VuePageInput {
  uai: string;
  name: string | null;
  version: number;
  timezone: string;
  grid: WeekGrid;
  findings: Finding[];
  /** Lesson id to highlight (`?cours=`). */
  highlight?: string | undefined;
  /** Monday of the current week (the "cette semaine" link). */
  currentMonday: string;
  clientId: string;
}

export function vueHref(uai: string, monday: string, lesson?: string): string {
  const params = new URLSearchParams({ semaine: monday });
  if (lesson !== undefined) params.set('cours', lesson);
  return `${VUE_BASE}/${uai}?${params.toString()}${lesson === undefined ? '' : `#${lessonAnchor(lesson)}`}`;
}

/** A page of one finding's items, in the week being viewed. */
function findingPageHref(uai: string, monday: string, code: string, page: number): string {
  const params = new URLSearchParams({ semaine: monday, constat: code, page: String(page) });
  return `${VUE_BASE}/${uai}?${params.toString()}#constat-${code}`;
}

export function vuePage(input: VuePageInput): Html {
  const { grid, uai } = input;
  const title = `${input.name ?? uai} (${uai})`;
  const sunday = addDays(grid.monday, 6);
  return layout(
    { title: `Emploi du temps ${title}`, clientId: input.clientId },
    html`<h1>Emploi du temps : ${title}</h1>
<p>Version ${input.version} de l’emploi du temps. Heures locales (${input.timezone}).</p>
<nav class="semaines" aria-label="Semaines">
<a href="${vueHref(uai, addDays(grid.monday, -7))}" rel="prev">← Semaine précédente</a>
<a href="${vueHref(uai, input.currentMonday)}">Cette semaine</a>
<a href="${vueHref(uai, addDays(grid.monday, 7))}" rel="next">Semaine suivante →</a>
<form class="choix-semaine" method="get" action="${VUE_BASE}/${uai}" role="search" aria-label="Choisir une semaine">
<label for="semaine">Aller à la semaine du</label>
<input id="semaine" name="semaine" type="date" value="${grid.monday}" required aria-describedby="semaine-aide">
<button type="submit">Afficher</button>
<span id="semaine-aide" class="aide">N’importe quel jour de la semaine : elle s’affiche à partir du lundi.</span>
</form>
</nav>
${gridTable(input, sunday)}
${qualityPanel(input.uai, grid.monday, input.findings)}`,
  );
}

function gridTable(input: VuePageInput, sunday: string): Html {
  const { grid } = input;
  const anchored = new Set<string>();
  const entry = (e: GridEntry) => {
    const anchor = e.kind === 'lesson' && !anchored.has(e.id) ? lessonAnchor(e.id) : undefined;
    if (anchor) anchored.add(e.id);
    const classes = [e.cancelled ? 'annule' : '', e.id === input.highlight ? 'signale' : '']
      .filter(Boolean)
      .join(' ');
    const what = e.kind === 'event' ? [e.label ?? 'Réservation'] : [e.subject, e.groups.join(', ')];
    return html`<li${anchor ? html` id="${anchor}"` : ''}${classes ? html` class="${classes}"` : ''} data-cours="${e.id}"><span class="horaire">${e.start}–${e.end}</span> ${what.filter((w) => w !== undefined && w !== '').join(' · ')}${e.cancelled ? ' (annulé)' : ''}</li>`;
  };
  // A pile is one line with its count; its first lessons open on demand (native <details>, read
  // by screen readers as a button), opened already when the highlighted lesson is in it.
  const pile = (p: GridPile) => {
    const hidden = p.count - p.shown.length;
    return html`<li class="superposes" data-superposes="${p.count}"><span class="horaire">${p.start}–${p.end}</span> <strong>${frenchCount(p.count)} cours superposés</strong><details${p.highlighted ? ' open' : ''}><summary>Voir les ${p.shown.length} premiers</summary><ul class="cours">${p.shown.map(entry)}</ul>${
      hidden > 0 ? html`<p>et ${frenchCount(hidden)} autres : voir « Qualité des données ».</p>` : ''
    }</details></li>`;
  };
  const item = (i: GridItem) => (i.kind === 'pile' ? pile(i) : entry(i));
  return html`<table>
<caption>Occupation des salles, semaine du ${frenchDate(grid.monday)} au ${frenchDate(sunday)}</caption>
<thead><tr><th scope="col">Salle</th>${grid.days.map(
    (day) =>
      html`<th scope="col">${weekdayName(day.weekday)} ${frenchDate(day.date).slice(0, 5)}${day.closure ? html`<br><small>Fermé : ${day.closure}</small>` : ''}</th>`,
  )}</tr></thead>
<tbody>
${grid.rows.map(
  (row) =>
    html`<tr><th scope="row">${row.room === null ? 'Sans salle' : row.room.name}</th>${row.cells.map(
      (cell, i) =>
        cell.length === 0
          ? html`<td${grid.days[i]?.closure ? html` class="ferme"` : ''}></td>`
          : html`<td${grid.days[i]?.closure ? html` class="ferme"` : ''}><ul class="cours">${cell.map(item)}</ul></td>`,
    )}</tr>
`,
)}</tbody>
</table>`;
}

/** Up to three links shown; longer lists (holiday weeks) fold into a `<details>` to keep the panel short. */
function lessonLinks(uai: string, lessons: LessonRef[], more: number): Html {
  if (lessons.length === 0) return html``;
  // A lesson that never takes place is in no week: its label alone.
  const list = html`<ul>${lessons.map((l) =>
    l.week === undefined
      ? html`<li>${l.label}</li>`
      : html`<li><a href="${vueHref(uai, l.week, l.id)}">${l.label}</a></li>`,
  )}${more > 0 ? html`<li>et ${frenchCount(more)} autre(s) cours</li>` : ''}</ul>`;
  return lessons.length <= 3
    ? list
    : html`<details><summary>Cours concernés (${lessons.length + more})</summary>${list}</details>`;
}

/** `Cours sans salle (182 cours, 14 groupes)`, or `(3)` for a finding of items alone. */
function findingCount(f: Finding): string {
  const items = f.itemsBefore + f.items.length + f.moreItems;
  if (f.lessonCount === undefined) return frenchCount(items);
  return `${frenchCount(f.lessonCount)} cours${items > 0 ? `, ${frenchCount(items)} groupe${items > 1 ? 's' : ''}` : ''}`;
}

/** Previous and next pages of a finding's items, when it has more than one. */
function findingPages(uai: string, monday: string, f: Finding): Html {
  const total = f.itemsBefore + f.items.length + f.moreItems;
  if (total <= MAX_ITEMS) return html``;
  const pages = Math.ceil(total / MAX_ITEMS);
  return html`<nav class="pages" aria-label="Pages : ${f.title}"><p>Constats ${frenchCount(f.itemsBefore + 1)} à ${frenchCount(
    f.itemsBefore + f.items.length,
  )} sur ${frenchCount(total)} (page ${f.page} sur ${pages}).</p>${
    f.page > 1
      ? html` <a href="${findingPageHref(uai, monday, f.code, f.page - 1)}" rel="prev">← Constats précédents</a>`
      : ''
  }${
    f.moreItems > 0
      ? html` <a href="${findingPageHref(uai, monday, f.code, f.page + 1)}" rel="next">Constats suivants →</a>`
      : ''
  }</nav>`;
}

function qualityPanel(uai: string, monday: string, findings: Finding[]): Html {
  const total = findings.reduce((n, f) => n + f.itemsBefore + f.items.length + f.moreItems, 0);
  return html`<section class="qualite" aria-labelledby="qualite-titre" id="qualite">
<h2 id="qualite-titre">Qualité des données</h2>
<p>${total === 0 ? 'Aucun problème détecté.' : `${frenchCount(total)} constat(s).`}</p>
${findings.map(
  (
    f,
  ) => html`<section id="constat-${f.code}" data-constat="${f.code}" aria-labelledby="constat-${f.code}-titre">
<h3 id="constat-${f.code}-titre">${f.title} (${findingCount(f)})</h3>
${f.note === undefined ? '' : html`<p>${f.note}</p>`}
${
  f.items.length === 0
    ? f.note === undefined
      ? html`<p>Rien à signaler.</p>`
      : ''
    : html`<ul>${f.items.map(
        (item) =>
          html`<li>${item.message}${item.where === undefined ? '' : html` <code>${item.where}</code>`}${
            item.week === undefined ? '' : html` <a href="${vueHref(uai, item.week)}">Voir la semaine</a>`
          }${lessonLinks(uai, item.lessons, item.moreLessons)}</li>`,
      )}</ul>${findingPages(uai, monday, f)}`
}
</section>`,
)}
</section>`;
}

/** `2 000` (French digit grouping, with the narrow no-break space). */
function frenchCount(n: number): string {
  return n.toLocaleString('fr-FR');
}

export function establishmentsPage(
  clientId: string,
  schools: { uai: string; name: string | null; version: number }[],
): Html {
  return layout(
    { title: 'Établissements', clientId },
    html`<h1>Établissements</h1>
${
  schools.length === 0
    ? html`<p>Aucun établissement visible avec un emploi du temps importé.</p>`
    : html`<ul>${schools.map(
        (s) =>
          html`<li><a href="${VUE_BASE}/${s.uai}">${s.name ?? s.uai} (${s.uai})</a>, version ${s.version}</li>`,
      )}</ul>`
}
<p><a href="/docs">Documentation de l’API</a></p>`,
  );
}

export function errorPage(clientId: string | undefined, title: string, message: string): Html {
  return layout(
    clientId === undefined ? { title } : { title, clientId },
    html`<h1>${title}</h1><p class="erreur">${message}</p><p><a href="${VUE_BASE}">Établissements</a></p>`,
  );
}
