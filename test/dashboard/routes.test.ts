/**
 * The dashboard's routes through the real hono app (`createHttpApp` with a `dashboard` dep) on a
 * real store, real OverridesService and PlanningService over the repository's devices and rules
 * (the demo lycée, plus a school without timetable): who may read and write, 404 for a school
 * outside the caller's list, alerts, the override form's validation (French errors next to the
 * fields, values kept), Post/Redirect/Get, the origin check and the cancellation.
 * Sync status and gateway reports are given as data (what SyncService and GatewayTracker return).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/app/app.js';
import type { GatewayReport } from '../../src/bridge/gateway-tracker.js';
import { OverridesService } from '../../src/bridge/overrides-service.js';
import { MutablePlanFeed } from '../../src/bridge/plan-feed.js';
import { PlanningService } from '../../src/bridge/planning.js';
import type { SchoolSyncStatus } from '../../src/bridge/sync.js';
import { buildDemoTimetable } from '../../src/demo/demo-lycee.js';
import { ManualClock } from '../../src/domain/clock.js';
import { timetableSchema } from '../../src/domain/timetable.js';
import { CalendarSource } from '../../src/site/calendars.js';
import { SiteHolder } from '../../src/site/site-holder.js';
import type { Store } from '../../src/store/store.js';
import {
  bridgeClients,
  copySite,
  DEMO_UAI,
  fixedOccupancy,
  heldDemo,
  NO_DATA_UAI,
  OUTSIDE_UAI,
} from '../bridge/bridge-fixtures.js';
import { type StoreBackend, storeBackends } from '../store/backends.js';

const backends: StoreBackend[] = await storeBackends();
const ORIGIN = 'http://localhost';
const BASE = `${ORIGIN}/tableau-de-bord`;

function syncStatus(uai: string): SchoolSyncStatus {
  const none = uai === NO_DATA_UAI;
  return {
    uai,
    state: none ? 'no-timetable' : 'stale',
    stale: !none,
    fallback: none,
    version: none ? null : 1,
    range: null,
    fetched_at: null,
    last_success_at: null,
    age_hours: none ? null : 30.25,
    last_error: null,
  };
}

const gateways: GatewayReport[] = [
  {
    uai: DEMO_UAI,
    gateway: 'gw-tilleuls',
    state: 'offline',
    last_seen: '2026-01-12T15:05:00.000Z',
    zones: [
      {
        zone: 'cdi',
        function: 'heating',
        latest_rev: 4,
        applied_rev: 3,
        mode: 'eco',
        setpoint_c: 16,
        measured_c: 19.46,
        source: 'bridge',
        reported_at: '2026-01-12T15:00:00Z',
        lagging: true,
      },
    ],
  },
];

describe.each(backends)('dashboard routes on $name', (backend) => {
  // Monday 12 January 2026, 18:30 in Strasbourg.
  const clock = new ManualClock(Date.parse('2026-01-12T17:30:00Z'));
  const clients = bridgeClients(clock);
  const files = copySite();
  const site = new SiteHolder({ ...files, baseDir: files.dir });
  const calendars = new CalendarSource({ zone: 'B', dataDir: files.dir });
  // The demo timetable with one lesson in a room no zone drives.
  const timetable = timetableSchema.parse(buildDemoTimetable(clock.now()));
  timetable.rooms.push({ id: 'SALLE-X', name: 'Salle X' });
  timetable.lessons.push({ ...timetable.lessons[0]!, id: 'cours-salle-x', rooms: ['SALLE-X'] });
  let store: Store;
  let overrides: OverridesService;
  let app: ReturnType<typeof createHttpApp>;

  beforeAll(async () => {
    store = await backend.open();
    let planning: PlanningService | undefined;
    overrides = new OverridesService({
      repository: store.overrides,
      site,
      clock,
      nextChange: (...args) => planning?.nextChange(...args) ?? null,
    });
    planning = new PlanningService({
      site,
      calendars,
      occupancy: fixedOccupancy({ [DEMO_UAI]: heldDemo({ from: '2026-01-05', to: '2026-02-02' }) }),
      loadOccupancy: async (uai, dates) => (uai === DEMO_UAI ? heldDemo(dates) : null),
      overrides,
      feed: new MutablePlanFeed(),
      clock,
    });
    const plans = planning;
    app = createHttpApp({
      authenticator: clients.authenticator,
      entree: { store, clock, bodyLimitBytes: 1024 * 1024, strictJson: false },
      dashboard: {
        clock,
        devices: () => site.current.devices,
        calendars,
        planFor: (uai, date, days) => plans.planFor(uai, date, days),
        occupancy: async (uai, dates) => (uai === DEMO_UAI ? heldDemo(dates) : null),
        syncStatus,
        gateways: (uai) => gateways.filter((g) => g.uai === uai),
        timetable: async (uai) => (uai === DEMO_UAI ? timetable : null),
        overrides,
      },
    });
  });
  afterAll(() => backend.cleanup());

  const get = (path: string, who?: string) =>
    app.request(`${BASE}${path}`, {
      headers: { Accept: 'text/html', ...(who ? clients.bearer(who) : {}) },
    });
  const post = (path: string, form: Record<string, string>, who: string, origin: string | null = ORIGIN) =>
    app.request(`${BASE}${path}`, {
      method: 'POST',
      body: new URLSearchParams(form).toString(),
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(origin === null ? {} : { Origin: origin }),
        ...clients.bearer(who),
      },
    });
  const valid = {
    jour: '2026-01-12',
    zone: 'cdi',
    fonction: 'heating',
    mode: 'frost',
    consigne: '8',
    fin: 'duree',
    duree_heures: '1,5',
    jusqua: '',
    motif: 'Radiateur en panne',
  };

  describe('who may read', () => {
    it('lets managers, auditors and admins in, refuses other roles with 403, sends visitors to the login', async () => {
      for (const who of ['manager', 'auditor', 'admin']) expect((await get('', who)).status, who).toBe(200);
      const refused = await get('', 'editor');
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('Le rôle editor ne donne pas accès au tableau de bord');
      expect((await get(`/${DEMO_UAI}`, 'bridge')).status).toBe(403);
      const anonymous = await get(`/${DEMO_UAI}?jour=2026-01-13`);
      expect(anonymous.status).toBe(303);
      expect(anonymous.headers.get('Location')).toBe(
        `/connexion?suite=${encodeURIComponent(`/tableau-de-bord/${DEMO_UAI}?jour=2026-01-13`)}`,
      );
      expect((await app.request(`${BASE}/${DEMO_UAI}`)).status).toBe(401);
    });

    it('lands a login without a page to return to on the dashboard (auditors may not see VUE)', async () => {
      const res = await app.request(`${ORIGIN}/connexion`, {
        method: 'POST',
        body: new URLSearchParams({ jeton: clients.clients.get('auditor')!.token }).toString(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
      });
      expect(res.status, await res.clone().text()).toBe(303);
      expect(res.headers.get('Location')).toBe('/tableau-de-bord');
    });

    it('lists the schools of the caller’s list with their alerts, in French', async () => {
      const text = await (await get('', 'manager')).text();
      expect(text).toMatch(/^<!doctype html><html lang="fr">/);
      expect(text).toContain('<a class="evitement" href="#contenu">Aller au contenu</a>');
      expect([...text.matchAll(/<tr data-uai="(\w+)">/g)].map((m) => m[1])).toEqual([NO_DATA_UAI, DEMO_UAI]);
      expect([...text.matchAll(/<li data-alerte="([^"]+)">([^<]+)<\/li>/g)].map((m) => [m[1], m[2]])).toEqual(
        [
          ['sans-emploi-du-temps', 'Aucun emploi du temps reçu : le plan suit la semaine type des règles.'],
          ['synchro-en-retard', 'Synchronisation en retard : dernière réussite il y a 30,3 h.'],
          ['passerelle-hors-ligne', 'Passerelle gw-tilleuls hors ligne depuis le 12/01/2026 16:05.'],
          [
            'zone-sans-acquittement',
            'Zone cdi (chauffage) n’acquitte pas : révision appliquée 3, dernière envoyée 4.',
          ],
          [
            'salles-non-affectees',
            'La salle Salle X (1 cours) n’appartient à aucune zone de devices/0670999X.yaml : ses cours ne pilotent rien.',
          ],
        ],
      );
      const auditor = await (await get('', 'auditor')).text();
      expect([...auditor.matchAll(/<tr data-uai="(\w+)">/g)].map((m) => m[1])).toEqual([DEMO_UAI]);
      // Auditors do not get the VUE link (VUE is for managers).
      expect(auditor).not.toContain('href="/scope/vue"');
    });

    it('answers 404 for a school outside the caller’s list, as for one that does not exist', async () => {
      const foreign = await get(`/${DEMO_UAI}`, 'other-manager');
      expect(foreign.status).toBe(404);
      expect(await foreign.text()).toContain(`Aucun établissement ${DEMO_UAI} piloté dans votre périmètre.`);
      const unknown = await get(`/${OUTSIDE_UAI}`, 'other-manager');
      expect(unknown.status).toBe(404);
      expect((await get('/0670999Y', 'admin')).status).toBe(400);
      const badDay = await get(`/${DEMO_UAI}?jour=2026-13-01`, 'manager');
      expect(badDay.status).toBe(400);
      expect(await badDay.text()).toContain('jour : une date AAAA-MM-JJ est attendue');
      // 500 before issue 13.
      const farDay = await get(`/${DEMO_UAI}?jour=9999-12-31`, 'manager');
      expect(farDay.status).toBe(400);
      expect(await farDay.text()).toContain('jour : les dates vont du 2000-01-01 au 2099-12-31.');
      // A script (no Accept: text/html) gets the problem body.
      const script = await app.request(`${BASE}/${DEMO_UAI}?jour=9999-12-31`, {
        headers: clients.bearer('manager'),
      });
      expect(script.status).toBe(400);
      expect(await script.json()).toEqual({
        errors: [
          {
            code: 'date-out-of-range',
            message: '9999-12-31 is outside the supported dates 2000-01-01 to 2099-12-31',
            where: 'jour',
          },
        ],
      });
    });

    it('shows the zones with the plan’s state and the gateway’s report, read-only for an auditor', async () => {
      const res = await get(`/${DEMO_UAI}`, 'auditor');
      expect(res.status).toBe(200);
      expect(res.headers.get('Cache-Control')).toBe('private, no-store');
      const text = await res.text();
      const cdi = /<tr data-zone="cdi">(.*?)<\/tr>/.exec(text)?.[1] ?? '';
      const cells = [...cdi.matchAll(/<t[hd][^>]*>([^<]*)<\/t[hd]>/g)].map((m) => m[1]);
      expect(cells[0]).toBe('CDI');
      expect(cells.slice(4)).toEqual(['19,5 °C', '3 (envoyée : 4) — non acquittée']);
      expect(text).toContain('<caption>Chauffage de chaque zone à 18:30</caption>');
      expect(text.match(/class="frise" aria-labelledby=/g)?.length).toBe(16);
      expect(text).toContain('<title id="frise-jour-cdi-titre">CDI, lundi 12/01/2026</title>');
      expect(text).toContain(
        'Lecture seule : votre rôle ne permet pas de créer ni d’annuler une dérogation.',
      );
      expect(text).not.toContain('id="nouvelle-derogation"');
      expect(text).toContain('<h2 id="economies-titre">Économies estimées de la semaine</h2>');
    });
  });

  describe('overrides from the form', () => {
    it('refuses an auditor (403), a cross-site or origin-less POST (403), a foreign school (404)', async () => {
      const auditor = await post(`/${DEMO_UAI}/derogations`, valid, 'auditor');
      expect(auditor.status).toBe(403);
      expect(await auditor.text()).toContain('ne peut ni créer ni annuler de dérogation');
      expect((await post(`/${DEMO_UAI}/derogations`, valid, 'manager', 'https://evil.example')).status).toBe(
        403,
      );
      expect((await post(`/${DEMO_UAI}/derogations`, valid, 'manager', null)).status).toBe(403);
      expect((await post(`/${DEMO_UAI}/derogations`, valid, 'other-manager')).status).toBe(404);
      expect(await overrides.list({ uais: [DEMO_UAI] })).toEqual([]);
    });

    it('shows the errors next to their fields with the values kept (422)', async () => {
      const res = await post(
        `/${DEMO_UAI}/derogations`,
        { ...valid, consigne: 'chaud', duree_heures: '', motif: '  ' },
        'manager',
      );
      expect(res.status).toBe(422);
      const text = await res.text();
      expect(text).toContain(
        '<p class="erreur" id="f-consigne-erreur">Indiquez une température en °C, par exemple 19 ou 18,5 (ou laissez vide).</p>',
      );
      expect(text).toContain(
        '<p class="erreur" id="f-duree_heures-erreur">Indiquez une durée en heures, par exemple 2 ou 1,5.</p>',
      );
      expect(text).toContain(
        '<p class="erreur" id="f-motif-erreur">Indiquez le motif : il figure dans le plan et dans le journal d’audit.</p>',
      );
      expect(text).toMatch(
        /<input id="f-consigne" name="consigne" inputmode="decimal" value="chaud"[^>]*aria-invalid="true"/,
      );
      expect(text).toContain('<option value="cdi" selected="">CDI</option>');
      expect(text).toContain('<div class="resume-erreurs" role="alert">');
      expect(await overrides.list({ uais: [DEMO_UAI] })).toEqual([]);
    });

    it('puts the service’s refusals on the right field, in French', async () => {
      const hot = await post(
        `/${DEMO_UAI}/derogations`,
        { ...valid, mode: 'comfort', consigne: '21' },
        'manager',
      );
      expect(hot.status).toBe(422);
      expect(await hot.text()).toContain(
        '<p class="erreur" id="f-consigne-erreur">Au-dessus du plafond légal de 19 °C (Code de l’énergie, R241-26)',
      );
      const zone = await post(`/${DEMO_UAI}/derogations`, { ...valid, zone: 'piscine' }, 'manager');
      expect(zone.status).toBe(422);
      expect(await zone.text()).toContain(
        '<p class="erreur" id="f-zone-erreur">Zone inconnue pour cet établissement.</p>',
      );
      const past = await post(
        `/${DEMO_UAI}/derogations`,
        { ...valid, fin: 'jusqua', jusqua: '2026-01-12T10:00' },
        'manager',
      );
      expect(past.status).toBe(422);
      expect(await past.text()).toContain(
        '<p class="erreur" id="f-jusqua-erreur">La fin doit être dans le futur.</p>',
      );
    });

    it('creates one (303 to the page), shows it, and cancels it', async () => {
      const res = await post(`/${DEMO_UAI}/derogations`, valid, 'manager');
      expect(res.status).toBe(303);
      expect(res.headers.get('Location')).toBe(
        `/tableau-de-bord/${DEMO_UAI}?jour=2026-01-12&ok=derogation-creee#derogations`,
      );
      const [created] = await overrides.list({ uais: [DEMO_UAI] });
      expect(created).toMatchObject({
        zone: 'cdi',
        function: 'heating',
        mode: 'frost',
        setpoint_c: 8,
        author: 'manager',
        reason: 'Radiateur en panne',
        status: 'active',
        from: '2026-01-12T17:30:00.000Z',
        until: '2026-01-12T19:00:00.000Z',
        requested: { duration: 'PT90M' },
      });
      const page = await (await get(`/${DEMO_UAI}?jour=2026-01-12&ok=derogation-creee`, 'manager')).text();
      expect(page).toContain(
        '<p class="ok" role="status">Dérogation créée : le nouvel état est envoyé à la passerelle.</p>',
      );
      expect(page).toContain(
        `<tr data-derogation="${created!.id}"><th scope="row">CDI</th><td>Chauffage</td><td>Hors-gel</td>`,
      );
      expect(
        /<tr data-zone="cdi"><th scope="row">CDI<\/th><td>Hors-gel<\/td><td class="nombre">8 °C<\/td><td>12\/01\/2026 20:00<\/td>/.test(
          page,
        ),
      ).toBe(true);

      const path = `/${DEMO_UAI}/derogations/${created!.id}/annulation`;
      expect((await post(path, { jour: '2026-01-12' }, 'auditor')).status).toBe(403);
      expect((await post(path, { jour: '2026-01-12' }, 'other-manager')).status).toBe(404);
      expect(
        (await post(`/${NO_DATA_UAI}/derogations/${created!.id}/annulation`, {}, 'manager')).status,
      ).toBe(404);
      expect((await post(`/${DEMO_UAI}/derogations/inconnue/annulation`, {}, 'manager')).status).toBe(404);
      const cancelled = await post(path, { jour: '2026-01-12' }, 'manager');
      expect(cancelled.status).toBe(303);
      expect(cancelled.headers.get('Location')).toBe(
        `/tableau-de-bord/${DEMO_UAI}?jour=2026-01-12&ok=derogation-annulee#derogations`,
      );
      expect(await overrides.list({ uais: [DEMO_UAI] })).toMatchObject([
        { id: created!.id, status: 'cancelled', cancelled_by: 'manager' },
      ]);
      const again = await post(path, {}, 'manager');
      expect(again.headers.get('Location')).toBe(
        `/tableau-de-bord/${DEMO_UAI}?ok=derogation-deja-terminee#derogations`,
      );
    });
  });
});
